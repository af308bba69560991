#version 330
// Slabs: the far level of detail, and what a CPU rasterizer draws when it has no budget left for
// cubes. One quad per occupied grid layer of a chunk, across the axis that faces the eye, on the
// layer's near side. Each fragment follows its ray through the layer in the group's 3-D grid of
// cells (a few cells at most) and shades the first cube it hits as voxel.glsl would: same face,
// same light, same bevel, the same gaps. So a slab is a stand-in for its cubes at any size, and the
// hand-over between the two shows no seam.
// PICKING: writes (group + 1, instance + 1) of the cell hit instead of a colour.
#include "common.glsl"

uniform vec3 u_grid_origin;                // local position of cell (0, 0, 0)
uniform ivec3 u_grid_dims;                 // cells per axis
uniform vec3 u_eye;                        // camera position, world

const float MARGIN = 2.0;                  // cells past a chunk's border whose side faces its rays may hit
const int MAX_CELLS = 6;                   // cells one ray visits in a layer (about 60 degrees off axis)

// The vertex shader turns each layer into a fixed frame, (u, v) across the layer and w through it,
// so the per-fragment ray walk indexes no vector by a variable (slow on CPU rasterizers).
#if defined VERTEX_SHADER
layout(location = 0) in vec3 in_lo;        // per instance: the chunk's first cell, grid coordinates
layout(location = 1) in vec3 in_hi;        // per instance: its last cell
layout(location = 2) in vec3 in_slice;     // per instance: (axis, layer, side of the eye: +1 / -1)

out vec3 v_uvw;                            // this fragment, layer frame
flat out vec3 v_eye;                       // the eye, layer frame
flat out mat3 v_to_grid;                   // layer frame -> grid axes (a permutation)
flat out float v_layer;
flat out float v_side;

void main() {
    int axis = int(in_slice.x);
    int a1 = (axis + 1) % 3;
    int a2 = (axis + 2) % 3;
    mat3 to_grid = mat3(0.0);
    to_grid[0][a1] = 1.0;
    to_grid[1][a2] = 1.0;
    to_grid[2][axis] = 1.0;
    vec3 lo = transpose(to_grid) * in_lo, hi = transpose(to_grid) * in_hi;
    vec2 c = vec2(gl_VertexID & 1, gl_VertexID >> 1);  // triangle strip corners
    vec3 uvw = vec3(mix(lo.xy - 0.5 - MARGIN, hi.xy + 0.5 + MARGIN, c),
                    in_slice.y + 0.5 * in_slice.z);      // on the face of the layer toward the eye
    gl_Position = u_vp * vec4(u_origin + u_scale * (u_grid_origin + to_grid * uvw), 1.0);
    v_uvw = uvw;
    v_eye = transpose(to_grid) * ((u_eye - u_origin) / u_scale - u_grid_origin);
    v_to_grid = to_grid;
    v_layer = in_slice.y;
    v_side = in_slice.z;
}
#endif

#if defined FRAGMENT_SHADER
in vec3 v_uvw;
flat in vec3 v_eye;
flat in mat3 v_to_grid;
flat in float v_layer;
flat in float v_side;

#if defined PICKING
uniform usampler3D u_instances;            // instance + 1 per cell, 0 where no voxel
#define Cell uint
Cell fetch(ivec3 g) { return texelFetch(u_instances, g, 0).r; }
bool filled(Cell c) { return c != 0u; }
#else
uniform usampler3D u_cells;                // (colour table entry, flags) per cell
out vec4 f_colour;
const uint CELL_VOXEL = 1u, CELL_HIGHLIGHT = 2u, CELL_NAN = 4u;   // viz/draw/slabs.py
#define Cell uvec2
Cell fetch(ivec3 g) { return texelFetch(u_cells, g, 0).rg; }
bool filled(Cell c) { return (c.y & CELL_VOXEL) != 0u; }
#endif

ivec3 grid_cell(ivec3 c) { return ivec3(v_to_grid * vec3(c)); }

// The first cube (half edge h) on this fragment's ray inside the layer: its cell's data, the face
// it is entered by (normal, layer frame) and where, relative to the cell centre.
bool trace(float h, out Cell cell, out vec3 normal, out vec3 local) {
    vec3 rd = v_uvw - v_eye;                                  // ray: eye + t rd, this fragment at t = 1
    rd += vec3(1e-7) * vec3(lessThan(abs(rd), vec3(1e-7)));   // no division by zero below
    vec3 inv = 1.0 / rd;
    ivec3 c = ivec3(floor(v_uvw.xy + 0.5), int(v_layer));
    // most rays hit the near face of the cube in the cell they enter by: try that first
    vec3 front = v_uvw + rd * ((0.5 - h) * -v_side * inv.z);  // where the ray meets that face's plane
    vec2 off = front.xy - vec2(c.xy);
    ivec3 g = grid_cell(c);
    bool inside = all(greaterThanEqual(g, ivec3(0))) && all(lessThan(g, u_grid_dims));
    Cell data = inside ? fetch(g) : Cell(0u);
    if (filled(data) && abs(off.x) <= h && abs(off.y) <= h) {
        cell = data;
        normal = vec3(0.0, 0.0, v_side);
        local = front - vec3(c);
        return true;
    }
    // else walk the cells the ray crosses inside the layer and test each cube (side faces, gaps)
    float t_exit = (v_layer - 0.5 * v_side - v_eye.z) * inv.z;  // where it leaves through the far face
    ivec2 s = ivec2(rd.x > 0.0 ? 1 : -1, rd.y > 0.0 ? 1 : -1);
    vec2 next = (vec2(c.xy) + 0.5 * vec2(s) - v_eye.xy) * inv.xy;   // t at the next cell border
    vec2 stride = abs(inv.xy);
    for (int i = 0; i < MAX_CELLS; i++) {
        if (filled(data)) {
            vec3 t0 = (vec3(c) - h - v_eye) * inv, t1 = (vec3(c) + h - v_eye) * inv;
            vec3 tn = min(t0, t1), tf = max(t0, t1);
            float t_near = max(tn.x, max(tn.y, tn.z)), t_far = min(tf.x, min(tf.y, tf.z));
            if (t_near <= t_far) {
                cell = data;
                normal = tn.z == t_near ? vec3(0.0, 0.0, -sign(rd.z))
                       : (tn.x == t_near ? vec3(-sign(rd.x), 0.0, 0.0) : vec3(0.0, -sign(rd.y), 0.0));
                local = v_eye + t_near * rd - vec3(c);
                return true;
            }
        }
        if (min(next.x, next.y) > t_exit) break;             // the ray has left the layer
        if (next.x < next.y) { c.x += s.x; next.x += stride.x; } else { c.y += s.y; next.y += stride.y; }
        g = grid_cell(c);
        inside = all(greaterThanEqual(g, ivec3(0))) && all(lessThan(g, u_grid_dims));
        data = inside ? fetch(g) : Cell(0u);
    }
    return false;
}

void main() {
    // pixels per cell on this layer: below ~3 px the gaps close, as for sprites (moire otherwise)
    vec2 d = fwidth(v_uvw.xy);
    float spacing_px = 1.0 / max(max(d.x, d.y), 1e-6);
    float fill = mix(1.0, u_fill, smoothstep(3.0, 6.0, spacing_px));
    Cell c;
    vec3 normal, local;
    if (!trace(0.5 * fill, c, normal, local)) discard;
#if defined PICKING
    write_pick(c);
#else
    vec3 colour = (c.y & CELL_NAN) != 0u ? NAN_COLOUR : colormap_index(c.x);
    float flag = (c.y & CELL_HIGHLIGHT) != 0u ? 1.0 : 0.0;
    vec3 lit = highlight(colour, flag) * shade(v_to_grid * normal);
    f_colour = vec4(bevel(lit, flag, face_border(local / (0.5 * fill)), spacing_px * fill), 1.0);
#endif
}
#endif
