"""The one description of the machine a result was measured on (benchmarks and ttm.ablate)."""
from __future__ import annotations

import os
import platform

import torch


def describe(torch_threads: int | None = None) -> str:
    """CPU model, core count and OS, plus the torch thread count and version when given."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = f"{cpu}, {os.cpu_count()} cpus, {platform.system()} {platform.release()}"
    if torch_threads is not None:
        text += f", {torch_threads} torch thread(s), torch {torch.__version__}"
    return text
