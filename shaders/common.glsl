// Shared by the voxel programs: group placement, colormap lookup and lighting.
// Included by the loader (viz/shaders.py) into both stages; unused uniforms are optimized out.

uniform mat4 u_vp;            // world -> clip (P @ V)
uniform vec3 u_origin;        // group placement: world = u_origin + u_scale * local
uniform float u_scale;
uniform float u_fill;         // cube edge as a fraction of the voxel spacing (gaps keep cubes apart)

uniform sampler2D u_lut;      // 256 x rows colormap table, RGBA
uniform int u_lut_row;        // this group's colormap: its row in the table

uniform vec3 u_light_world;   // unit vector toward the light in world axes (the renderer turns its
                              // view-space headlight into world space once per frame)
uniform float u_ambient;
uniform float u_diffuse;

const vec3 NAN_COLOUR = vec3(0.35);

// entry i (0..255) of this group's colour table
vec3 colormap_index(uint i) {
    return texelFetch(u_lut, ivec2(int(i), u_lut_row), 0).rgb;
}

// t is the value already normalized to [0, 1] by viz.colormap.normalize (NaN stays NaN); the
// table entry is round(t * 255), as viz.colormap documents
vec3 colormap(float t) {
    if (isnan(t)) return NAN_COLOUR;
    return colormap_index(uint(clamp(t, 0.0, 1.0) * 255.0 + 0.5));
}

float shade(vec3 world_normal) {
    return u_ambient + u_diffuse * max(dot(world_normal, u_light_world), 0.0);
}

// the mean lighting of a cube seen along `to_eye` (world): each of the 3 faces toward the eye,
// weighted by the area it shows. Sprites and slabs stand in for cubes with it, and a flat sheet
// of them shades smoothly instead of jumping where the most visible face changes.
float cube_shade(vec3 to_eye) {
    vec3 a = abs(to_eye);
    vec3 lit = u_ambient + u_diffuse * max(sign(to_eye) * u_light_world, 0.0);
    return dot(a, lit) / max(a.x + a.y + a.z, 1e-9);
}

// highlighted (e.g. edited) voxels are lifted toward white so they read at any level of detail
vec3 highlight(vec3 colour, float flag) {
    return flag > 0.5 ? mix(colour, vec3(1.0), 0.45) : colour;
}

// 0 at the centre of a cube face, 1 on its border; `local` is the point on the cube in [-1, 1]^3
float face_border(vec3 local) {
    vec3 a = abs(local);
    return a.x + a.y + a.z - max(a.x, max(a.y, a.z)) - min(a.x, min(a.y, a.z));   // the middle one
}

// a darker bevel along a face's border, or a bright rim on a highlighted voxel: about 3 pixels wide
// on big faces, a fifth of the half face on small ones, gone below ~4 pixels (noise, not detail)
vec3 bevel(vec3 colour, float flag, float border, float face_px) {
    vec3 rim = flag > 0.5 ? vec3(1.0, 0.95, 0.6) : colour * 0.55;
    float width = clamp(6.0 / face_px, 0.04, 0.2);
    float edge = smoothstep(1.0 - width, 1.0 - 0.15 * width, border) * smoothstep(3.0, 8.0, face_px);
    return mix(colour, rim, edge);
}

#if defined FRAGMENT_SHADER && defined PICKING
// picking targets are RG32UI: (group + 1, instance + 1), so (0, 0) is the background
uniform uint u_group;
out uvec2 f_id;
void write_pick(uint instance) { f_id = uvec2(u_group + 1u, instance); }
#endif
