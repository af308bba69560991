#version 330
// A wireframe box (12 edges, 24 vertices made from gl_VertexID): the hovered and selected voxels.

uniform mat4 u_vp;
uniform vec3 u_center;                     // world
uniform vec3 u_half;                       // world half size
uniform vec3 u_colour;

#if defined VERTEX_SHADER
// the 12 edges as pairs of corner numbers; corner bit 0/1/2 = +x/+y/+z
const int EDGES[24] = int[24](0, 1, 2, 3, 4, 5, 6, 7,  0, 2, 1, 3, 4, 6, 5, 7,  0, 4, 1, 5, 2, 6, 3, 7);
void main() {
    int c = EDGES[gl_VertexID];
    vec3 s = vec3(c & 1, (c >> 1) & 1, (c >> 2) & 1) * 2.0 - 1.0;
    gl_Position = u_vp * vec4(u_center + s * u_half, 1.0);
}
#endif

#if defined FRAGMENT_SHADER
out vec4 f_colour;
void main() { f_colour = vec4(u_colour, 1.0); }
#endif
