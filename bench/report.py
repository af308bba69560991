"""What every benchmark prints alongside its figures: the machine, and JSON lines on disk."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def machine(torch_threads: int | None = None) -> str:
    """CPU model, core count and OS, plus the torch thread count and version when given."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = f"{cpu}, {os.cpu_count()} cpus, {platform.system()} {platform.release()}"
    if torch_threads is not None:
        import torch
        text += f", {torch_threads} torch thread(s), torch {torch.__version__}"
    return text


def write_jsonl(path, lines: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
