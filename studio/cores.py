"""How the trainer and the software rasterizer share the machine's cores.

Left alone, both take every core: torch's intra-op pool (the trainer thread) and llvmpipe's
rasterizer threads (LP_NUM_THREADS), next to the window's own Python thread. Measured on the
2-core machine with bench/flythrough.py (README, "Fly-through and adaptive detail"): with the
window open, one torch thread trains as fast as two while the view is idle and 1.4x as fast while
it flies (two threads wait on each other whenever the window takes a core), and frames are as
smooth; llvmpipe keeps every core (one thread made frames no cheaper for the trainer). So the
trainer gets all cores but one, the rasterizer all of them. `share_cores` sets both before
anything starts; an LP_NUM_THREADS or OMP_NUM_THREADS a person set wins.
"""
from __future__ import annotations

import os

import torch


def choose(cores: int) -> tuple[int, int]:
    """(torch threads, llvmpipe threads) for a machine with `cores` cores."""
    return max(1, cores - 1), max(1, cores)


def share_cores(torch_threads: int | None = None, raster_threads: int | None = None) -> tuple[int, int]:
    """Apply the split (call before the GL context is made: llvmpipe reads LP_NUM_THREADS then);
    returns the (torch, llvmpipe) threads in force."""
    chosen_torch, chosen_raster = choose(os.cpu_count() or 1)
    if raster_threads is not None:
        os.environ["LP_NUM_THREADS"] = str(raster_threads)
    os.environ.setdefault("LP_NUM_THREADS", str(chosen_raster))
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    elif "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(chosen_torch)
    return torch.get_num_threads(), int(os.environ["LP_NUM_THREADS"])
