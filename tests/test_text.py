"""Text drawn by the renderer itself: the font atlas, text groups, and glyphs in offscreen images."""
from __future__ import annotations

import numpy as np

from viz import text
from viz.camera import Camera
from viz.flow_scene import FlowScene
from viz.text import Label, label_box, text_layout


def test_the_atlas_has_every_glyph_of_the_charset():
    font = text.atlas()
    assert set(text.CHARSET) <= set(font.glyphs)
    assert font.image.dtype == np.uint8 and font.image.max() == 255
    for ch in "0123456789×EOS":
        g = font.glyph(ch)
        u0, v0, u1, v1 = g.uv
        texels = font.image[int(v0 * font.image.shape[0]):int(v1 * font.image.shape[0]),
                            int(u0 * font.image.shape[1]):int(u1 * font.image.shape[1])]
        assert texels.max() > 200, f"{ch!r} left no ink in the atlas"
        assert g.advance > 0


def test_a_font_is_found_without_the_system_dejavu(monkeypatch):
    monkeypatch.setattr(text, "SYSTEM_FONTS", ())
    path = text.font_path()     # matplotlib's DejaVu Sans, a dependency
    assert path is None or path.endswith("DejaVuSans.ttf")
    assert text.load_font(20).getlength("37") > 0


def test_label_boxes_follow_text_and_alignment():
    short, long = (label_box(Label(t, (0.0, 0.0, 0.0), 2.0)) for t in ("4", "answer 4"))
    assert long[1][0] > short[1][0] > 0
    right = label_box(Label("answer", (10.0, 0.0, 0.0), 2.0, align=1.0))
    assert abs(right[1][0] - 10.0) < 1e-6
    middle = label_box(Label("x", (0.0, 0.0, 0.0), 2.0, valign=0.5))
    assert abs(middle[0][1] + 0.25 * 2.0 + 1.0) < 1e-6


def test_glyph_quads_cover_the_text_and_skip_spaces():
    quads = text.glyph_quads([Label("a b", (0.0, 0.0, 0.0), 1.0), Label("7", (5.0, 0.0, 0.0), 1.0)])
    assert len(quads) == 3                             # a, b and 7; the space draws nothing
    assert quads[:, 12].tolist() == [0, 0, 1]          # which label each glyph belongs to
    assert (quads[:, 3:5] > 0).all()


def render_text(labels, size=(80, 60)):
    from viz.offscreen import render_offscreen
    scene = FlowScene()
    scene.set_layout(text_layout("t", labels))
    lo, hi = scene.bbox()
    centre = (lo + hi) / 2
    scene.camera = Camera(position=[centre[0], centre[1], 9.0], near=0.1, far=100.0)
    return scene, render_offscreen(scene, size)


def test_glyph_text_is_in_offscreen_images(gl):
    scene, img = render_text([Label("37×42", (0.0, 0.0, 0.0), 2.0, colour=(1.0, 1.0, 1.0))])
    lit = img[..., :3].max(axis=2)
    assert lit.max() >= 200                            # white strokes
    cols = np.flatnonzero(lit.max(axis=0) > 128)
    assert len(np.unique(np.diff(cols) > 1)) > 1       # strokes with gaps: several glyphs, not a box
    assert (lit[:, :4] == 0).all() and (lit[:, -4:] == 0).all()     # black around the text


def test_a_labels_value_dims_it(gl):
    from viz.offscreen import render_offscreen
    scene, bright = render_text([Label("8", (0.0, 0.0, 0.0), 2.0, colour=(1.0, 1.0, 1.0))])
    scene.update_values("t", [0.25])
    dim = render_offscreen(scene, (80, 60))
    assert 0.2 * int(bright.max()) <= int(dim[..., :3].max()) <= 0.3 * int(bright.max())


def test_below_full_detail_text_too_small_to_read_is_left_out(gl):
    """A moving frame leaves out a text group whose capitals would be under MIN_TEXT_PX pixels
    (specks that cost a CPU rasterizer as much as legible text); a still frame draws it, and
    text large enough is drawn at every level."""
    from viz.lod import FULL_DETAIL, MIN_TEXT_PX, Detail
    from viz.offscreen import render_offscreen
    moving = Detail(1.0, 0.5)
    scene, near = render_text([Label("88", (0.0, 0.0, 0.0), 2.0, colour=(1.0, 1.0, 1.0))], size=(400, 300))
    assert render_offscreen(scene, (400, 300), detail=moving)[..., :3].max() == near[..., :3].max() > 200
    cam = scene.camera
    focal_px = cam.projection_matrix(400 / 300)[1, 1] * 300 / 2
    cam.position = cam.position + np.array([0.0, 0.0, 2.0 * focal_px / (0.8 * MIN_TEXT_PX) - 9.0])
    cam.far = 1e4
    assert render_offscreen(scene, (400, 300), detail=FULL_DETAIL)[..., :3].max() > 0   # a speck, still drawn
    assert render_offscreen(scene, (400, 300), detail=moving)[..., :3].max() == 0


def test_project_text_puts_a_labels_anchor_and_capitals_where_the_glyphs_are(gl):
    """The stand-ins' numbers come from the picture: a text group tagged "stand_ins" projects
    its label to the pixels its glyphs lit (left end of the baseline, capital height)."""
    from viz.renderer import Renderer
    size = (400, 300)
    labels = [Label("EEE", (0.0, 0.0, 0.0), 2.0, colour=(1.0, 1.0, 1.0))]
    scene, img = render_text(labels, size)
    scene["t"].layout.tags["stand_ins"] = True
    lit = np.argwhere(img[..., :3].max(axis=2) > 128)            # (row, column) from the top
    [(label, x, y, cap)] = Renderer().project_text(scene, size)
    assert label is labels[0]
    assert abs(cap - (lit[:, 0].max() + 1 - lit[:, 0].min())) <= 2
    assert abs(y - (lit[:, 0].max() + 1)) <= 2
    assert lit[:, 1].min() - 0.2 * cap <= x <= lit[:, 1].min()    # the pen, a side bearing before the ink
    scene["t"].layout.tags["stand_ins"] = False
    assert Renderer().project_text(scene, size) == []
