#version 330
// Ribbons (viz/ribbons.py): one instanced triangle strip per link, an S-curve from its start to
// its end leaving and arriving along +x, as wide as the link says, coloured by its value through
// the group's colour table and darker the smaller it is (the nearer zero, on a signed scale).
// viz/draw/ribbons.py blends unsigned links with MAX, so the stronger of two crossing links shows.
// PICKING: writes (group + 1, link + 1) into an RG32UI target instead of a colour.
#include "common.glsl"

uniform int u_segments;                    // along the curve: fewer below full detail (viz.lod)
uniform bool u_signed;                     // a diverging scale: zero sits at 0.5
#if defined VERTEX_SHADER
layout(location = 0) in vec3 in_start;     // local
layout(location = 1) in vec3 in_end;
layout(location = 2) in float in_width;    // local units, across the link
layout(location = 3) in float in_value;    // normalized by viz.colormap.normalize
out vec3 v_colour;
flat out uint v_instance;                  // PICKING: the link + 1

vec3 bezier(float t, vec3 p0, vec3 p1, vec3 p2, vec3 p3) {
    float s = 1.0 - t;
    return s * s * s * p0 + 3.0 * s * s * t * p1 + 3.0 * s * t * t * p2 + t * t * t * p3;
}

void main() {
    float t = float(gl_VertexID >> 1) / float(u_segments);
    float side = float(gl_VertexID & 1) - 0.5;
    vec3 dx = vec3(0.5 * (in_end.x - in_start.x), 0.0, 0.0);
    vec3 p1 = in_start + dx, p2 = in_end - dx;
    vec3 here = bezier(t, in_start, p1, p2, in_end);
    vec3 ahead = bezier(min(t + 0.01, 1.0), in_start, p1, p2, in_end)
               - bezier(max(t - 0.01, 0.0), in_start, p1, p2, in_end);
    vec2 across = normalize(vec2(-ahead.y, ahead.x) + vec2(1e-9, 0.0));
    vec3 local = here + vec3(across * side * in_width, 0.0);
    gl_Position = u_vp * vec4(u_origin + u_scale * local, 1.0);
    float v = clamp(in_value, 0.0, 1.0);
    float size = u_signed ? abs(2.0 * v - 1.0) : v;
    v_colour = colormap(v) * mix(0.3, 1.0, size);
    v_instance = uint(gl_InstanceID + 1);
}
#endif

#if defined FRAGMENT_SHADER
in vec3 v_colour;
flat in uint v_instance;
#include "solid_fragment.glsl"
#endif
