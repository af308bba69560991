// The fragment stage of a program whose pieces are one colour each: that colour, or under
// PICKING the piece's pick id (write_pick, common.glsl). The including file declares v_colour
// (flat or interpolated, as its vertex stage writes it) and flat uint v_instance before it.
#if defined PICKING
void main() { write_pick(v_instance); }
#else
out vec4 f_colour;
void main() { f_colour = vec4(v_colour, 1.0); }
#endif
