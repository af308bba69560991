#version 330
// The baseline that bench/render.py measures the renderer against: the textbook instanced cube
// (24-vertex mesh with normals, 36 indices, back faces culled by GL), same colouring and lighting
// as voxel.glsl, no level of detail.
#include "common.glsl"

#if defined VERTEX_SHADER
layout(location = 0) in vec3 in_corner;
layout(location = 1) in vec3 in_normal;
layout(location = 2) in vec3 in_pos;
layout(location = 3) in float in_value;
out vec3 v_local;
flat out vec3 v_colour;
void main() {
    gl_Position = u_vp * vec4(u_origin + u_scale * (in_pos + u_fill * in_corner), 1.0);
    v_local = in_corner;
    v_colour = colormap(in_value) * shade(in_normal);
}
#endif

#if defined FRAGMENT_SHADER
in vec3 v_local;
flat in vec3 v_colour;
out vec4 f_colour;
void main() {
    vec3 a = abs(v_local) * 2.0;
    float border = a.x + a.y + a.z - max(a.x, max(a.y, a.z)) - min(a.x, min(a.y, a.z));
    f_colour = vec4(mix(v_colour, v_colour * 0.55, smoothstep(0.80, 0.97, border)), 1.0);
}
#endif
