#version 330
// Slabs: the level of detail for voxels smaller than a pixel or two. One quad per grid layer of a
// chunk, across the axis that faces the eye, textured with the group's 3-D grid of normalized values
// (texelFetch, so exactly nearest); empty cells are discarded.
// PICKING: writes (group + 1, slot + 1) from the grid of slots instead of a colour.
#include "common.glsl"

uniform vec3 u_grid_origin;                // local position of cell (0, 0, 0)

#if defined VERTEX_SHADER
layout(location = 0) in vec3 in_lo;        // per instance: the chunk's first cell, grid coordinates
layout(location = 1) in vec3 in_hi;        // per instance: its last cell
layout(location = 2) in vec3 in_slice;     // per instance: (axis, layer, side of the eye: +1 / -1)

flat out int v_axis;
flat out int v_layer;
flat out ivec3 v_lo;
flat out ivec3 v_hi;
flat out float v_shade;
out vec3 v_cell;

void main() {
    int axis = int(in_slice.x);
    int a1 = (axis + 1) % 3;
    int a2 = (axis + 2) % 3;
    vec2 c = vec2(gl_VertexID & 1, gl_VertexID >> 1);  // triangle strip corners
    vec3 g;
    g[axis] = in_slice.y;
    g[a1] = mix(in_lo[a1] - 0.5, in_hi[a1] + 0.5, c.x);
    g[a2] = mix(in_lo[a2] - 0.5, in_hi[a2] + 0.5, c.y);
    vec3 world = u_origin + u_scale * (u_grid_origin + g);
    gl_Position = u_vp * vec4(world, 1.0);
    v_cell = g;
    v_axis = axis;
    v_layer = int(in_slice.y);
    v_lo = ivec3(in_lo);
    v_hi = ivec3(in_hi);
    vec3 n = vec3(0.0);
    n[axis] = in_slice.z;
    v_shade = shade(n);
}
#endif

#if defined FRAGMENT_SHADER
flat in int v_axis;
flat in int v_layer;
flat in ivec3 v_lo;
flat in ivec3 v_hi;
flat in float v_shade;
in vec3 v_cell;

ivec3 cell() {
    ivec3 c = clamp(ivec3(floor(v_cell + 0.5)), v_lo, v_hi);
    c[v_axis] = v_layer;
    return c;
}

#if defined PICKING
uniform usampler3D u_slots;                // slot + 1 per cell, 0 where no voxel
uniform uint u_group;
out uvec2 f_id;
void main() {
    uint slot = texelFetch(u_slots, cell(), 0).r;
    if (slot == 0u) discard;
    f_id = uvec2(u_group + 1u, slot);
}
#else
uniform sampler3D u_cells;                 // (normalized value, flag): flag 0 empty, 1 voxel, 2 highlighted
out vec4 f_colour;
void main() {
    vec2 cell_data = texelFetch(u_cells, cell(), 0).rg;
    if (cell_data.y < 0.5) discard;
    f_colour = vec4(highlight(colormap(cell_data.x), cell_data.y - 1.0) * v_shade, 1.0);
}
#endif
#endif
