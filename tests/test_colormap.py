"""Colour scales: shapes, visible ends on a black canvas, and the normalize rule."""
import numpy as np
import pytest

from viz.colormap import PALETTE, lut, normalize
from viz.voxels import COLORMAPS


def luminance(rgb):
    return rgb[..., :3] @ np.array([0.2126, 0.7152, 0.0722])


@pytest.mark.parametrize("name", COLORMAPS)
def test_tables_are_256_rgba_float32_in_unit_range(name):
    table = lut(name)
    assert table.shape == (256, 4) and table.dtype == np.float32
    assert table.min() >= 0 and table.max() <= 1 and np.all(table[:, 3] == 1)
    assert luminance(table).min() > 0.15, "a colour would vanish on the black canvas"


def test_diverging_has_a_visible_grey_middle_and_distinct_ends():
    table = lut("diverging")
    middle = table[128, :3]
    assert np.ptp(middle) < 0.05 and 0.2 < middle.mean() < 0.4  # grey, not black
    assert table[0, 2] > table[0, 0] and table[-1, 0] > table[-1, 2]  # blue low, orange high
    assert np.all(luminance(table[[0, -1]]) > luminance(middle))


def test_sequential_rises_from_purple_to_bright_yellow():
    table = lut("sequential")
    assert np.all(np.diff(luminance(table)) > 0)
    assert table[0, :3].max() >= 0.25  # never black at 0
    assert table[-1, 0] > 0.9 and table[-1, 1] > 0.9 and table[-1, 2] < 0.7


def test_categorical_codes_pick_palette_entries():
    table = lut("categorical")
    assert len(PALETTE) >= 10 and len(np.unique(PALETTE, axis=0)) == len(PALETTE)
    codes = np.arange(20)
    index = np.round(normalize(codes, (0.0, 255.0)) * 255).astype(int)
    np.testing.assert_allclose(table[index, :3], PALETTE[codes % len(PALETTE)])


def test_normalize_ends_and_symmetry():
    t = normalize([0.0, 0.5, 1.0, 2.0, -1.0], (0.0, 1.0))
    np.testing.assert_allclose(t, [0, 0.5, 1, 1, 0])
    assert round(normalize(1.0, (0.0, 1.0)) * 255) == 255  # the range's max is the last entry
    np.testing.assert_allclose(normalize([-3.0, 0.0, 3.0], (-3.0, 3.0), "diverging"), [0, 0.5, 1])
    # Diverging stays centred on zero even for a lopsided range.
    np.testing.assert_allclose(normalize([0.0, 4.0], (-1.0, 4.0), "diverging"), [0.5, 1.0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown colormap 'rainbow'"):
        lut("rainbow")
    with pytest.raises(ValueError, match="max > min"):
        normalize([1.0], (1.0, 1.0))
