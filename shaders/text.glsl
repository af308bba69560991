#version 330
// Text from the font atlas (viz/text.py): one instanced quad per glyph, flat in the group's x-y
// plane. The atlas holds coverage, mipmapped, so text far away stays smooth instead of flickering.

uniform mat4 u_vp;
uniform vec3 u_origin;        // group placement: world = u_origin + u_scale * local
uniform float u_scale;
uniform sampler2D u_atlas;

#if defined VERTEX_SHADER
layout(location = 0) in vec3 in_corner;    // the glyph quad's lower-left corner, local
layout(location = 1) in vec2 in_size;      // its width and height, local
layout(location = 2) in vec4 in_uv;        // atlas u0, v (bottom), u1, v (top)
layout(location = 3) in vec3 in_colour;
layout(location = 4) in float in_bright;   // the label's value: 1 full, less dims it
out vec2 v_uv;
out vec3 v_colour;
void main() {
    vec2 c = vec2(gl_VertexID & 1, gl_VertexID >> 1);            // triangle strip: 0,0 1,0 0,1 1,1
    vec3 local = in_corner + vec3(c * in_size, 0.0);
    gl_Position = u_vp * vec4(u_origin + u_scale * local, 1.0);
    v_uv = vec2(mix(in_uv.x, in_uv.z, c.x), mix(in_uv.y, in_uv.w, c.y));
    v_colour = in_colour * clamp(in_bright, 0.0, 1.0);
}
#endif

#if defined FRAGMENT_SHADER
in vec2 v_uv;
in vec3 v_colour;
out vec4 f_colour;
void main() {
    float a = texture(u_atlas, v_uv).r;
    if (a < 0.02) discard;
    f_colour = vec4(v_colour, a);
}
#endif
