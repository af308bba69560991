"""The benchmarks run end to end on the small model and write well-formed JSON lines."""
import importlib.util
import json
from pathlib import Path

import numpy as np

from chart_checks import read_chart

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def printed(capsys) -> list[dict]:
    """What a bench printed on stdout, which must be JSON lines only (people's text: stderr)."""
    return [json.loads(x) for x in capsys.readouterr().out.splitlines()]


def test_step_cost(tmp_path, capsys):
    bench = load("step_cost")
    lines = bench.main(["--small", "--steps", "1", "4", "16", "--batch", "2", "--repeats", "2",
                        "--out", str(tmp_path / "s.jsonl"), "--png", str(tmp_path / "s.png")])
    read = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert read == json.loads(json.dumps(lines)) == printed(capsys)
    assert {r["model"] for r in read if "model" in r} == {"ttm", "transformer_kv"}
    assert read[-1]["bench"] == "step_cost_crossover"
    drawn = read_chart(tmp_path / "s.png")
    again = bench.main(["--from-json", str(tmp_path / "s.jsonl"), "--png", str(tmp_path / "t.png")])
    assert again == read
    np.testing.assert_array_equal(read_chart(tmp_path / "t.png"), drawn)


def test_step_cost_plot_draws_the_measured_lines():
    bench = load("step_cost")
    point = lambda model, step, ms: {"bench": "step_cost", "model": model, "batch": 1,  # noqa: E731
                                     "step": step, "ms_min": ms, "repeats": 3}
    lines = [point("ttm", 1, 2.0), point("ttm", 4, 2.0), point("transformer_kv", 1, 1.0),
             point("transformer_kv", 4, 3.0),
             {"bench": "step_cost_crossover", "batch": 1, "step": 2.5, "extrapolated": False}]
    ax = bench.figure(lines).axes[0]
    drawn = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines}
    assert drawn["ttm"] == ([1, 4], [2.0, 2.0]) and drawn["transformer_kv"] == ([1, 4], [1.0, 3.0])
    assert drawn["crossover, step 2"][0] == [2.5, 2.5]
    assert ax.get_xscale() == "log" and "fastest of 3" in ax.get_title()


def test_crossover_interpolates_and_extrapolates():
    bench = load("step_cost")
    assert bench.crossover([1, 2, 4], [2.0, 2.0, 2.0], [1.0, 1.5, 2.5])["step"] == 3.0
    far = bench.crossover([1, 2, 4], [10.0, 10.0, 10.0], [1.0, 2.0, 4.0])
    assert far["extrapolated"] and abs(far["step"] - 10.0) < 1e-9


def test_cached_decoder_matches_full_causal_recompute():
    import torch
    from ttm.model import TTMConfig
    bench = load("step_cost")
    cfg = TTMConfig(dim=16, heads=2, layers=2, mlp_dim=32, dropout=0.0)
    torch.manual_seed(0)
    decoder = bench.CachedDecoder(cfg).eval()
    x = torch.randn(1, 6, 16)
    with torch.no_grad():
        full = decoder(x, decoder.empty_cache(1, 6), 0)
        cache = decoder.empty_cache(1, 6)
        for pos in range(0, 6, 2):
            stepped = decoder(x[:, pos : pos + 2], cache, pos)
    torch.testing.assert_close(stepped, full)


def test_train_throughput(tmp_path, capsys):
    bench = load("train_throughput")
    lines = bench.main(["--small", "--rounds", "1", "--block-steps", "2", "--warmup-steps", "1",
                        "--modes", "cli", "cli_bf16", "--out", str(tmp_path / "t.jsonl")])
    assert printed(capsys) == json.loads(json.dumps(lines))
    assert [r["loop"] for r in lines] == ["plain", "trainer_cli", "trainer_cli_bf16"]
    assert all(r["examples_per_s"] > 0 for r in lines)
    assert "cpus" in lines[0]["machine"] and "torch thread(s)" in lines[0]["machine"]


def test_plain_loop_uses_the_models_optimizer_split():
    from ttm.model import TTMConfig
    from ttm.train import TrainConfig
    bench = load("train_throughput")
    loop = bench.PlainLoop(TTMConfig.tiny(), TrainConfig(weight_decay=0.3), stage=1, compiled=False)
    decay, no_decay = loop.optimizer.param_groups
    assert decay["weight_decay"] == 0.3 and no_decay["weight_decay"] == 0.0
    assert any(p is loop.model.token_embedding.weight for p in no_decay["params"])


def test_graph_layout_bench_prints_what_it_writes(tmp_path, capsys):
    assert load("graph_layout").main(["--nodes", "60", "--repeats", "1",
                                      "--out", str(tmp_path / "g.jsonl")]) == 0
    read = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert read == printed(capsys)
    assert [(r["bench"], r["asked_dot"]) for r in read] == [("graph_layout", True), ("graph_layout", False)]
    assert all(r["seconds"] > 0 for r in read)


def test_causal_bench_times_every_case_against_its_target(tmp_path):
    import ttm
    from ttm_fixtures import tiny_model
    ttm.save(tiny_model(seed=1), tmp_path / "tiny.pt")
    lines = load("causal").main(["--checkpoint", str(tmp_path / "tiny.pt"), "--problem", "12x34",
                                 "--repeats", "1", "--out", str(tmp_path / "c.jsonl")])
    read = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert read == json.loads(json.dumps(lines))
    cases = [r["case"] for r in read if r["bench"] == "causal"]
    assert cases == ["replay", "graph_changes", "intervention", "slot_effects",
                     "slot_effects_mean", "effect_map"]
    assert all(r["ms_min"] > 0 and r["ms_median"] >= r["ms_min"] for r in read if "case" in r)
    summary = read[-1]
    assert summary["bench"] == "causal_summary" and summary["problem"] == "12x34"
    assert summary["all_met"] == all(summary[f"{k}_ms"] <= summary[f"{k}_target_ms"]
                                     for k in ("intervention", "slot_effects", "effect_map"))


def test_probes_bench_times_each_cell(tmp_path):
    import copy
    import torch
    from ttm import tokens as tok
    from ttm.checkpoint import save
    from ttm_fixtures import tiny_model
    model = copy.deepcopy(tiny_model(seed=3))
    with torch.no_grad():
        model.step.head.bias[tok.EOS] = -1e4        # runs that last to the product's end
    save(model, tmp_path / "tiny.pt")
    lines = load("probes").main(["--checkpoint", str(tmp_path / "tiny.pt"), "--cells", "1x1", "2x1",
                                 "--problems", "120", "--fit", "80", "--repeats", "1",
                                 "--out", str(tmp_path / "p.jsonl")])
    read = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert read == json.loads(json.dumps(lines)) and [r["cell"] for r in read] == ["1x1", "2x1"]
    assert all(r["ms_min"] > 0 and r["ms_min"] <= r["ms_median"] and r["states"] >= 2 for r in read)
