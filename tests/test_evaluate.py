"""ttm.evaluate, the cell-table helpers in ttm.metrics, and the PNG / raster / chart code it uses."""
import json

import numpy as np
import pytest
import torch

from ttm import charts, png, save, tokens as tok
from ttm.evaluate import default_max_digits, main as evaluate_main
from ttm.metrics import cell_table, table_mean, table_records
from ttm.model import TTM
from ttm_fixtures import tiny_config
from ttm.raster import FONT, Canvas, text_size


TINY = tiny_config(layers=1, max_digits=3)


class Oracle:
    """Answers every problem correctly: a model-shaped stand-in for checking the metrics."""
    training = False

    def eval(self):
        return self

    def train(self, mode=True):
        return self

    def generate(self, pairs):
        return [tok.answer_tokens(a * b) for a, b in pairs]


def test_png_round_trip():
    image = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    data = png.encode(image)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(png.decode(data), image)
    with pytest.raises(ValueError, match="want"):
        png.encode(image.astype(np.float32))


def test_font_and_text():
    assert all(FONT[str(d)].shape == (5, 3) and FONT[str(d)].any() for d in range(10))
    canvas = Canvas(40, 20)
    canvas.text(0, 0, "8", (0, 0, 0), scale=2)
    ink = (canvas.pixels == 0).all(-1)
    assert ink[:10, :6].sum() == FONT["8"].sum() * 4 and not ink[:, 6:].any()
    assert text_size("12", 2) == (14, 10)


def test_heatmap_colors_cells_by_value():
    values = np.array([[0.0, 1.0], [0.5, 0.25]])
    canvas = charts.heatmaps([("T", values, [1, 2], [1, 2])], "A", "B", cell=40)
    left, top = 70, 56  # the layout's margins
    for r in range(2):
        for c in range(2):
            corner = canvas.pixels[top + r * 40 + 2, left + c * 40 + 2]
            assert tuple(corner) == charts.ramp(values[r, c])


def test_cell_table_of_a_perfect_model():
    table = cell_table(Oracle(), 2, per_cell=30, seed=5)
    assert set(table) == {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert all(v == (1.0, 1.0) for v in table.values())
    assert table_mean(table) == (1.0, 1.0)
    assert table_records(table)[1] == {"a_digits": 1, "b_digits": 2, "exact_match": 1.0,
                                       "token_accuracy": 1.0}


def test_default_max_digits_is_one_beyond_training_capped():
    ckpt = {"config": {"max_digits": 4}, "trainer": {"train_config": {"digits": 2}}}
    assert default_max_digits(ckpt) == 3
    ckpt["trainer"]["train_config"]["digits"] = 4
    assert default_max_digits(ckpt) == 4
    assert default_max_digits({"config": {"max_digits": 4}}) == 4


def test_cli_writes_json_and_png_deterministically(tmp_path, capsys):
    torch.manual_seed(0)
    save(TTM(TINY), tmp_path / "m.pt", trainer={"train_config": {"digits": 1}, "step": 7})
    argv = [str(tmp_path / "m.pt"), "--per-cell", "20", "--json", str(tmp_path / "a.json"),
            "--png", str(tmp_path / "a.png")]
    first = evaluate_main(argv)
    out = capsys.readouterr().out
    assert "| 2 digits |" in out and "Token accuracy" in out
    assert first["max_digits"] == 2 and len(first["cells"]) == 4
    assert set(first) >= {"overall", "trained_range", "beyond_training"}
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads(json.dumps(first))
    image = png.decode((tmp_path / "a.png").read_bytes())
    assert image.shape[2] == 3 and image.shape[0] > 100
    second = evaluate_main(argv[:3] + ["--max-digits", "2"])
    assert second["cells"] == first["cells"]
