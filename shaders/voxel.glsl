#version 330
// Instanced lit cubes, one instance per voxel: the near level of detail.
// PICKING: writes (group + 1, instance + 1) into an RG32UI target instead of a colour.
#include "common.glsl"

#if defined VERTEX_SHADER
// No mesh: gl_VertexID (the index buffer holds 0..11) names one of the 3 faces that look toward the
// eye and one of its 4 corners. Back faces are never drawn, which halves the work of a cube.
layout(location = 2) in vec3 in_pos;      // per instance: voxel centre, local units
layout(location = 3) in float in_value;   // per instance: normalized value
layout(location = 4) in float in_flag;    // per instance: 1 = highlighted

uniform int u_first;                      // instance number of gl_InstanceID 0 (draws cover chunk runs)
uniform vec3 u_eye;                       // camera position, world

out vec3 v_local;
flat out vec3 v_colour;
flat out float v_flag;
flat out uint v_instance;

void main() {
    int axis = gl_VertexID / 4;
    int corner = gl_VertexID % 4;
    vec3 centre = u_origin + u_scale * in_pos;
    vec3 normal = vec3(0.0);
    normal[axis] = u_eye[axis] >= centre[axis] ? 1.0 : -1.0;
    vec3 local = 0.5 * normal;
    local[(axis + 1) % 3] = (corner & 1) == 1 ? 0.5 : -0.5;
    local[(axis + 2) % 3] = (corner & 2) == 2 ? 0.5 : -0.5;
    gl_Position = u_vp * vec4(centre + (u_scale * u_fill) * local, 1.0);
    v_local = local;
    v_flag = in_flag;
#if defined PICKING
    v_instance = uint(u_first + gl_InstanceID + 1);
#else
    // lighting is constant over a face, so it is done once per vertex, not per fragment
    v_colour = highlight(colormap(in_value), in_flag) * shade(normal);
#endif
}
#endif

#if defined FRAGMENT_SHADER
in vec3 v_local;
flat in vec3 v_colour;
flat in float v_flag;
flat in uint v_instance;

#if defined PICKING
void main() { write_pick(v_instance); }
#else
out vec4 f_colour;
void main() {
    vec3 d = fwidth(v_local);                             // face units per pixel
    float face_px = 1.0 / max(max(d.x, d.y), max(d.z, 1e-6));
    f_colour = vec4(bevel(v_colour, v_flag, face_border(2.0 * v_local), face_px), 1.0);
}
#endif
#endif
