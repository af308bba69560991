"""studio.cores: the trainer keeps all cores but one, llvmpipe all of them; a person's settings win."""
import torch

from studio import cores


def test_the_trainer_leaves_a_core_to_the_window_and_the_rasterizer():
    assert cores.choose(1) == (1, 1)
    assert cores.choose(2) == (1, 2)
    assert cores.choose(16) == (15, 16)


def test_share_cores_applies_the_split_unless_told_otherwise(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)
    monkeypatch.delenv("LP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        assert cores.share_cores() == (1, 2)
        assert cores.os.environ["LP_NUM_THREADS"] == "2"
        monkeypatch.setenv("LP_NUM_THREADS", "1")          # a person's choice wins
        assert cores.share_cores(torch_threads=2) == (2, 1)
        assert cores.share_cores(raster_threads=3)[1] == 3  # ... unless a flag says otherwise
    finally:
        torch.set_num_threads(before)
