"""Two gloo processes on CPU: identical weights after training, falling loss, rank 0 writes alone."""
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
import torch.multiprocessing as mp

from ttm import checkpoint, distributed
from ttm_fixtures import tiny_config
from ttm.train import TrainConfig, Trainer

TINY = tiny_config(layers=1, max_digits=2, dropout=0.0)
STEPS = 24
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world: int, port: int, tmp: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = TrainConfig(digits=2, batch_size=32, steps=STEPS, lr=3e-3, warmup_steps=2, seed=0,
                      device="cpu", out=f"{tmp}/rank{rank}.pt", eval_every=8, eval_problems=16,
                      snapshot_every_s=math.inf, checkpoint_every_s=math.inf)
    trainer = Trainer(cfg, TINY)
    losses, step = [], trainer.train_step
    trainer.train_step = lambda: losses.append(step()) or losses[-1]
    trainer.run()
    torch.save({"weights": trainer.model.state_dict(), "losses": losses,
                "stage": trainer.curriculum.stage, "rng": trainer.rng.bit_generator.state,
                "examples": trainer.examples}, f"{tmp}/result{rank}.pt")
    distributed.shutdown()  # barrier first: a rank tearing down alone can abort its peer


def test_two_ranks_stay_in_sync_and_learn(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"result{r}.pt", weights_only=False) for r in (0, 1))
    for name, w in r0["weights"].items():
        assert torch.equal(w, r1["weights"][name]), f"{name} differs between ranks"
    assert r0["losses"] == r1["losses"], "the reported loss is the mean over ranks"
    first, last = sum(r0["losses"][:4]) / 4, sum(r0["losses"][-4:]) / 4
    assert last < first - 0.2, f"loss did not fall: {first:.3f} -> {last:.3f}"
    assert r0["stage"] == r1["stage"]
    assert r0["rng"] != r1["rng"], "ranks must draw different problems"
    assert r0["examples"] == STEPS * 32 * 2
    assert (tmp_path / "rank0.pt").exists() and not (tmp_path / "rank1.pt").exists()
    saved = checkpoint.read(tmp_path / "rank0.pt")
    for name, w in saved["model"].items():
        assert torch.equal(w, r0["weights"][name])


def test_torchrun_cli(tmp_path):
    """`torchrun --nproc_per_node 2 -m ttm.train` end to end, default model, two steps."""
    out = tmp_path / "ttm.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(free_port()), "-m", "ttm.train", "--steps", "2",
           "--batch-size", "4", "--digits", "1", "--eval-every", "2", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "x 2 processes" in proc.stderr
    state = checkpoint.read(out)["trainer"]
    assert state["step"] == 2 and state["examples"] == 2 * 4 * 2
