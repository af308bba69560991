// Shared by the voxel programs: group placement, colormap lookup and lighting.
// Included by the loader (viz/shaders.py) into both stages; unused uniforms are optimized out.

uniform mat4 u_vp;            // world -> clip (P @ V)
uniform mat3 u_view_rot;      // world -> view rotation, for normals
uniform vec3 u_origin;        // group placement: world = u_origin + u_scale * local
uniform float u_scale;
uniform float u_fill;         // cube edge as a fraction of the voxel spacing (gaps keep cubes apart)

uniform sampler2D u_lut;      // 256 x rows colormap table, RGBA, nearest
uniform float u_lut_row;      // v coordinate of this group's colormap row

uniform vec3 u_light_dir;     // unit vector toward the light, view space (a headlight, offset)
uniform float u_ambient;
uniform float u_diffuse;

const vec3 NAN_COLOUR = vec3(0.35);

// t is the value already normalized to [0, 1] by viz.colormap.normalize (NaN stays NaN)
vec3 colormap(float t) {
    if (isnan(t)) return NAN_COLOUR;
    return texture(u_lut, vec2((clamp(t, 0.0, 1.0) * 255.0 + 0.5) / 256.0, u_lut_row)).rgb;
}

float shade(vec3 world_normal) {
    return u_ambient + u_diffuse * max(dot(u_view_rot * world_normal, u_light_dir), 0.0);
}

// the axis-aligned face of a voxel at `world` that looks most toward the eye: what a far cube shows
vec3 facing_normal(vec3 world, vec3 eye) {
    vec3 d = eye - world;
    vec3 a = abs(d);
    if (a.x >= a.y && a.x >= a.z) return vec3(sign(d.x), 0.0, 0.0);
    if (a.y >= a.z) return vec3(0.0, sign(d.y), 0.0);
    return vec3(0.0, 0.0, sign(d.z));
}

// highlighted (e.g. edited) voxels are lifted toward white so they read at any level of detail
vec3 highlight(vec3 colour, float flag) {
    return flag > 0.5 ? mix(colour, vec3(1.0), 0.45) : colour;
}
