#version 330
// Point sprites, one per voxel: the middle level of detail, shaded like the cube they stand in for.
// PICKING: writes (group + 1, instance + 1) into an RG32UI target instead of a colour.
#include "common.glsl"

#if defined VERTEX_SHADER
layout(location = 2) in vec3 in_pos;      // per vertex here (GL_POINTS, no instancing)
layout(location = 3) in float in_value;
layout(location = 4) in float in_flag;

uniform vec3 u_eye;                       // camera position, world
uniform float u_focal_px;                 // P[1][1] * viewport height / 2: world size at w=1 -> pixels

flat out vec3 v_colour;
flat out uint v_instance;

void main() {
    vec3 world = u_origin + u_scale * in_pos;
    gl_Position = u_vp * vec4(world, 1.0);
    float spacing_px = u_scale * u_focal_px / max(gl_Position.w, 1e-6);
    // keep the gaps between voxels while they are wide enough to see, close them below ~3 px (moire)
    float fill = mix(1.0, u_fill, smoothstep(3.0, 6.0, spacing_px));
    gl_PointSize = max(spacing_px * fill, in_flag > 0.5 ? 3.0 : 1.0);
#if defined PICKING
    v_instance = uint(gl_VertexID + 1);       // draws start at `first`, so this is the instance
#else
    v_colour = highlight(colormap(in_value), in_flag) * cube_shade(u_eye - world);
#endif
}
#endif

#if defined FRAGMENT_SHADER
flat in vec3 v_colour;
flat in uint v_instance;
#include "solid_fragment.glsl"
#endif
