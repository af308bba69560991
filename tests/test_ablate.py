"""ttm.ablate on tiny budgets: same data for every variant, a complete table, JSON and PNG."""
import json
import math


from ttm import png
from ttm.ablate import VARIANTS, bar_chart, main as ablate_main, markdown, run_ablation, train_config
from ttm_fixtures import tiny_config
from ttm.train import Trainer


TINY = tiny_config(layers=1, max_digits=2)


def test_fixed_schedule():
    cfg = train_config(examples=6400, digits=2, seed=0, batch_size=64, out="x.pt", device="cpu")
    assert cfg.steps == 100 and cfg.max_stage_steps == 25 == cfg.eval_every
    assert math.isinf(cfg.curriculum_threshold) and cfg.decay_steps == cfg.steps


def test_variants_see_the_same_problems(tmp_path):
    states = []
    for name in ("ttm", "memoryless", "fifo"):
        cfg = train_config(64, 2, 3, 8, str(tmp_path / f"{name}.pt"), "cpu")
        trainer = Trainer(cfg, tiny_config(layers=1, max_digits=2, **VARIANTS[name]))
        trainer.run()
        states.append((trainer.rng.bit_generator.state, trainer.curriculum.stage, trainer.examples))
    assert states[0] == states[1] == states[2]
    assert states[0][1] == 2  # the schedule reached the last stage


def test_run_ablation_table_and_chart(tmp_path):
    results = run_ablation(["ttm", "pool"], TINY, examples=32, digits=2, seed=0, batch_size=8,
                           per_cell=5, ckpt_dir=str(tmp_path), device="cpu", quiet=True)
    assert [r["variant"] for r in results] == ["ttm", "pool"]
    assert all(r["examples"] == 32 and set(r["cells"]) == {"1x1", "1x2", "2x1", "2x2"}
               for r in results)
    table = markdown(results).splitlines()
    assert len(table) == 4 and table[0].startswith("| variant | params | examples | wall time")
    bar_chart(results, "T").save(tmp_path / "b.png")
    assert png.decode((tmp_path / "b.png").read_bytes()).shape[2] == 3


def test_cli(tmp_path, capsys):
    out, image = tmp_path / "a.json", tmp_path / "a.png"
    ablate_main(["--small", "--examples", "64", "--batch-size", "32", "--variants", "ttm",
                 "memoryless", "--per-cell", "4", "--device", "cpu", "--ckpt-dir", str(tmp_path),
                 "--out", str(out), "--png", str(image)])
    text = capsys.readouterr().out
    assert "small model" in text and "| memoryless |" in text
    record = json.loads(out.read_text())
    assert record["small"] and len(record["results"]) == 2
    assert image.exists()
