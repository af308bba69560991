"""Latency of one processing step as the history grows: TTM vs a KV-cached transformer decoder.

    python bench/step_cost.py [--steps 1 2 4 ... 256] [--batch 1 256] [--repeats 15]
                              [--out docs/step_cost.jsonl] [--png docs/step_cost.png]
    python bench/step_cost.py --from-json docs/step_cost.jsonl --png docs/step_cost.png

The TTM's state is its m memory tokens whatever the step, so a step costs the same at step 1 and
step 256. The baseline is a standard causal decoder with the same width, depth, heads and MLP
(built from the TTM's own Block modules) that keeps a KV cache: at step t it embeds the step's
new tokens and attends over all t * tokens_per_step tokens so far, so its step cost grows with t.
Both take `tokens_per_step` new input tokens per step (default: the TTM's n, its step input).

Method: for each step t, build the state a step-t call sees (TTM: a (B, m, d) memory; baseline:
a cache holding (t - 1) * tokens_per_step tokens per layer; the values do not change the cost,
neither model has data-dependent control flow), then time that one call under torch.no_grad(),
right after an untimed call of the same step (so caches are as warm as in a rollout, not cold
from the previous point of the sweep).
Repeats sweep all t in turn, so slow drifts in background load hit every t alike. The headline
figure is the fastest repeat (the timeit convention: on a shared machine, slower repeats measure
the other processes, and at batch 1 the times are bimodal with the scheduler's time slice); the
median and quartiles are in the JSON too. Writes one JSON line per (model, batch, step), then one
crossover line per batch. The plot is drawn from those lines, so --from-json redraws a saved run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import report  # noqa: E402
from ttm.ablate import SMALL  # noqa: E402
from ttm.model import TTM, Block, TTMConfig  # noqa: E402


class CachedDecoder(nn.Module):
    """A pre-norm causal transformer decoder with a KV cache, of the TTM's width and depth."""

    def __init__(self, cfg: TTMConfig):
        super().__init__()
        self.cfg = cfg
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size)

    def empty_cache(self, batch: int, length: int) -> torch.Tensor:
        c = self.cfg
        return torch.zeros(c.layers, 2, batch, c.heads, length, c.dim // c.heads)  # (L, 2, B, h, T, dh)

    def forward(self, x: torch.Tensor, cache: torch.Tensor, pos: int) -> torch.Tensor:
        """x (B, k, d): the step's new tokens, written to cache[..., pos:pos+k, :]; attends over
        cache[..., :pos+k, :] (causal inside the new block). Returns the last token's logits."""
        k = x.shape[1]
        allowed = torch.ones(k, pos + k, dtype=torch.bool).tril(diagonal=pos)   # (k, pos+k)
        for layer, block in enumerate(self.blocks):
            attn = block.attn
            q, key, value = (t.unflatten(-1, (attn.heads, -1)).transpose(1, 2)  # (B, h, k, dh)
                             for t in attn.qkv(block.ln1(x)).chunk(3, dim=-1))
            cache[layer, 0, :, :, pos : pos + k] = key
            cache[layer, 1, :, :, pos : pos + k] = value
            y = F.scaled_dot_product_attention(q, cache[layer, 0, :, :, : pos + k],
                                               cache[layer, 1, :, :, : pos + k], attn_mask=allowed)
            x = x + attn.proj(y.transpose(1, 2).flatten(2))                     # (B, k, d)
            x = x + block.mlp(block.ln2(x))
        return self.head(self.norm(x[:, -1]))                                   # (B, V)


def time_call(fn, sync=lambda: None) -> float:
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def measure(cfg: TTMConfig, batch: int, steps: list[int], repeats: int, tokens_per_step: int,
            compile_ttm: bool = False) -> dict:
    """{(model, t): [seconds per call, one per repeat]}."""
    torch.manual_seed(0)
    ttm, decoder = TTM(cfg).eval(), CachedDecoder(cfg).eval()
    step_fn = torch.compile(ttm.step) if compile_ttm else ttm.step
    k = tokens_per_step
    inputs = torch.randn(batch, cfg.input_tokens, cfg.dim)                      # (B, n, d)
    mask = torch.ones(batch, cfg.input_tokens, dtype=torch.bool)
    memory = torch.randn(batch, cfg.m, cfg.dim)                                 # (B, m, d)
    new_tokens = torch.randn(batch, k, cfg.dim)                                 # (B, k, d)
    caches = {t: decoder.empty_cache(batch, t * k) for t in steps}
    calls = {("ttm", t): (lambda: step_fn(memory, inputs, mask)) for t in steps}
    calls |= {("transformer_kv", t): (lambda t=t: decoder(new_tokens, caches[t], (t - 1) * k))
              for t in steps}
    times = {key: [] for key in calls}
    with torch.no_grad():
        for fn in calls.values():   # warm-up: allocator, lazy init, compilation
            fn()
        for _ in range(repeats):
            for key, fn in calls.items():
                fn()  # warm caches, as in a rollout where the same step runs back to back
                times[key].append(time_call(fn))
    return times


def crossover(steps: list[int], ttm_ms: list[float], base_ms: list[float]) -> dict:
    """First step at which the baseline's step costs more than the TTM's (linear interpolation
    between measured steps), else extrapolated from a least-squares line through the baseline."""
    flat = statistics.median(ttm_ms)
    for (t0, b0), (t1, b1) in zip(zip(steps, base_ms), zip(steps[1:], base_ms[1:])):
        if b0 <= flat < b1:
            return {"step": t0 + (flat - b0) * (t1 - t0) / (b1 - b0), "extrapolated": False}
    if base_ms[0] > flat:
        return {"step": steps[0], "extrapolated": False, "note": "baseline slower from step 1"}
    mt, mb = sum(steps) / len(steps), sum(base_ms) / len(base_ms)
    slope = sum((t - mt) * (b - mb) for t, b in zip(steps, base_ms)) / sum((t - mt) ** 2 for t in steps)
    if slope <= 0:
        return {"step": None, "extrapolated": True, "note": "baseline cost does not grow"}
    return {"step": steps[0] + (flat - (mb + slope * (steps[0] - mt))) / slope, "extrapolated": True}


def figure(lines: list[dict]):
    """Milliseconds per step against the step, one plot per batch size; a measured (not
    extrapolated) crossover is marked."""
    from ttm import plots  # matplotlib only when a chart is drawn

    points = [line for line in lines if line.get("bench") == "step_cost"]
    batches = list(dict.fromkeys(line["batch"] for line in points))
    panels = []
    for batch in batches:
        here = [line for line in points if line["batch"] == batch]
        series = [(model, [x["step"] for x in here if x["model"] == model],
                   [x["ms_min"] for x in here if x["model"] == model])
                  for model in dict.fromkeys(x["model"] for x in here)]
        panels.append((f"Batch {batch}: ms per step (fastest of {here[0]['repeats']})", series))
    fig = plots.line_plots(panels, xlabel="step (log2 axis)", ylabel="ms per step")
    crossings = {line["batch"]: line["step"] for line in lines
                 if line.get("bench") == "step_cost_crossover" and line["step"] is not None
                 and not line["extrapolated"]}
    for ax, batch in zip(fig.axes, batches):
        if batch in crossings:
            ax.axvline(crossings[batch], color="0.4", linestyle="--", linewidth=1,
                       label=f"crossover, step {crossings[batch]:.0f}")
            ax.legend(frameon=False)
    return fig


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, nargs="+", default=[2**i for i in range(9)])
    p.add_argument("--batch", type=int, nargs="+", default=[1, 256])
    p.add_argument("--repeats", type=int, default=None,
                   help="timed calls per point (default: 60 at batch 1, 5 at larger batches)")
    p.add_argument("--tokens-per-step", type=int, default=None,
                   help="new tokens per step for both models (default: the TTM's input_tokens)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--compile", action="store_true", help="also time a torch.compile'd TTM step")
    p.add_argument("--out", default="docs/step_cost.jsonl")
    p.add_argument("--png", default="docs/step_cost.png")
    p.add_argument("--small", action="store_true",
                   help="the ablation's reduced model (ttm.ablate.SMALL)")
    p.add_argument("--from-json", default=None,
                   help="instead of measuring, draw the lines saved in this JSONL file (--out)")
    return p.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    if args.from_json:
        lines = [json.loads(x) for x in Path(args.from_json).read_text().splitlines() if x.strip()]
    else:
        lines = run(args)
        report.write_jsonl(args.out, lines)
    if args.png and any(line.get("bench") == "step_cost" for line in lines):
        from ttm import plots
        plots.save(figure(lines), args.png)
    return lines


def run(args) -> list[dict]:
    """Measure every (model, batch, step): the JSON lines."""
    torch.set_num_threads(args.threads)
    cfg = TTMConfig(**SMALL) if args.small else TTMConfig()
    k = args.tokens_per_step or cfg.input_tokens
    machine = report.machine(args.threads)
    variants = [("ttm", False)] + ([("ttm_compiled", True)] if args.compile else [])
    lines = []
    for batch in args.batch:
        repeats = args.repeats or (60 if batch == 1 else 5)
        best = {}
        for name, compiled in variants:
            try:
                times = measure(cfg, batch, args.steps, repeats, k, compile_ttm=compiled)
            except Exception as err:  # torch.compile needs a working C++ toolchain
                report.emit(lines, {"bench": "step_cost", "model": name, "batch": batch,
                                    "error": f"{type(err).__name__}: {err}"})
                print(f"{name} at batch {batch} failed: {err}", file=sys.stderr)
                continue
            models = [name] if compiled else [name, "transformer_kv"]
            for model in models:
                key_model = "ttm" if model.startswith("ttm") else model
                raws = [[1000 * x for x in times[(key_model, t)]] for t in args.steps]
                ms = [min(raw) for raw in raws]
                best[model] = ms
                for t, raw in zip(args.steps, raws):
                    q = statistics.quantiles(raw, n=4) if len(raw) > 1 else raw * 3
                    report.emit(lines, {"bench": "step_cost", "model": model, "batch": batch, "step": t,
                                        "history_tokens": t * k if model == "transformer_kv" else None,
                                        "ms_min": round(min(raw), 4), "ms_p25": round(q[0], 4),
                                        "ms_median": round(q[1], 4), "ms_p75": round(q[2], 4),
                                        "repeats": repeats, "tokens_per_step": k, "machine": machine})
        if "ttm" in best and "transformer_kv" in best:
            ttm_ms, base_ms = best["ttm"], best["transformer_kv"]
            cross = crossover(args.steps, ttm_ms, base_ms)
            spread = (max(ttm_ms) - min(ttm_ms)) / statistics.median(ttm_ms)
            report.emit(lines, {"bench": "step_cost_crossover", "batch": batch, **cross,
                                "ttm_ms": round(statistics.median(ttm_ms), 4),
                                "ttm_spread": round(spread, 3),
                                "baseline_growth": round(base_ms[-1] / base_ms[0], 3)})
            where = ("none" if cross["step"] is None else
                     f"step {cross['step']:.0f}" + (" (extrapolated)" if cross["extrapolated"] else ""))
            print(f"batch {batch}: TTM {statistics.median(ttm_ms):.3f} ms/step (spread "
                  f"{100 * spread:.0f}% over steps {args.steps[0]}..{args.steps[-1]}); KV-cached "
                  f"transformer {base_ms[0]:.3f} -> {base_ms[-1]:.3f} ms/step; crossover: {where}",
                  file=sys.stderr)
    return lines


if __name__ == "__main__":
    main()
