#version 330
// Instanced lit cubes, one instance per voxel: the near level of detail.
// PICKING: writes (group + 1, slot + 1) into an RG32UI target instead of a colour.
#include "common.glsl"

#if defined VERTEX_SHADER
layout(location = 0) in vec3 in_corner;   // unit cube corner in [-0.5, 0.5]^3
layout(location = 1) in vec3 in_normal;   // face normal, world axes (groups are never rotated)
layout(location = 2) in vec3 in_pos;      // per instance: voxel centre, local units
layout(location = 3) in float in_value;   // per instance: normalized value
layout(location = 4) in float in_flag;    // per instance: 1 = highlighted

uniform int u_base;                       // slot of instance 0 in this draw (draws cover chunk runs)

out vec3 v_local;
flat out vec3 v_colour;
flat out float v_flag;
flat out uint v_slot;

void main() {
    vec3 world = u_origin + u_scale * (in_pos + in_corner * u_fill);
    gl_Position = u_vp * vec4(world, 1.0);
    v_local = in_corner;
    v_flag = in_flag;
#if defined PICKING
    v_slot = uint(u_base + gl_InstanceID + 1);
#else
    // lighting is constant over a face, so it is done once per vertex, not per fragment
    v_colour = highlight(colormap(in_value), in_flag) * shade(in_normal);
#endif
}
#endif

#if defined FRAGMENT_SHADER
in vec3 v_local;
flat in vec3 v_colour;
flat in float v_flag;
flat in uint v_slot;

#if defined PICKING
uniform uint u_group;
out uvec2 f_id;
void main() { f_id = uvec2(u_group + 1u, v_slot); }
#else
out vec4 f_colour;
void main() {
    // distance to the face's border: the second largest |coordinate| (the largest is the face itself)
    vec3 a = abs(v_local) * 2.0;
    float border = a.x + a.y + a.z - max(a.x, max(a.y, a.z)) - min(a.x, min(a.y, a.z));
    float edge = smoothstep(0.80, 0.97, border);
    vec3 rim = v_flag > 0.5 ? vec3(1.0, 0.95, 0.6) : v_colour * 0.55;  // bevel, or a bright outline
    f_colour = vec4(mix(v_colour, rim, edge), 1.0);
}
#endif
#endif
