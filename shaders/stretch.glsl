#version 330
// A frame drawn below full resolution (viz/scaled_target.py) stretched over the viewport: one
// triangle that covers it, sampling the small frame with linear filtering. On llvmpipe this is
// drawn by the rasterizer's threads, 1.5-2.5 ms cheaper than a linear glBlitFramebuffer.

uniform sampler2D u_frame;

#if defined VERTEX_SHADER
out vec2 v_uv;
void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);   // (0,0) (2,0) (0,2)
    v_uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
#endif

#if defined FRAGMENT_SHADER
in vec2 v_uv;
out vec4 f_colour;
void main() { f_colour = texture(u_frame, v_uv); }
#endif
