#version 330
// Graph edges as lines between voxel centres, coloured by the values at both ends, dimmed so the
// voxels stay in front.
#include "common.glsl"

#if defined VERTEX_SHADER
layout(location = 2) in vec3 in_pos;       // the group's instance buffers, read per vertex here
layout(location = 3) in float in_value;
out vec3 v_colour;
void main() {
    gl_Position = u_vp * vec4(u_origin + u_scale * in_pos, 1.0);
    v_colour = colormap(in_value) * 0.6;
}
#endif

#if defined FRAGMENT_SHADER
in vec3 v_colour;
out vec4 f_colour;
void main() { f_colour = vec4(v_colour, 1.0); }
#endif
