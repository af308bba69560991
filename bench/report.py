"""What every benchmark prints alongside its figures: the machine, and JSON lines on disk."""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from ttm.machine import describe as machine  # noqa: F401  (the one description, also ttm.ablate's)


def timing_arguments(parser, repeats: int) -> None:
    """--threads, --repeats and --out, for a bench that times calls with `timed`."""
    parser.add_argument("--threads", type=int, default=1, help="torch threads (%(default)s)")
    parser.add_argument("--repeats", type=int, default=repeats, help="timed calls (%(default)s)")
    parser.add_argument("--out", default=None, help="write the JSON lines here too")


def emit(lines: list[dict], line: dict) -> dict:
    """Keep a figure for --out and print it as the one JSON line it is (progress and summaries
    for people go to stderr, so that stdout stays JSON lines)."""
    lines.append(line)
    print(json.dumps(line), flush=True)
    return line


def write_jsonl(path, lines: list[dict]) -> None:
    """The figures as JSON lines at `path` (--out); None: stdout had them, nothing is written."""
    if path is None:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


def timed(fn, repeats: int) -> dict:
    """The fastest and the median of `repeats` calls of fn, in ms, after one warm call (caches,
    allocator, an fx module): on a shared machine slower repeats measure the other processes."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000.0 * (time.perf_counter() - start))
    return {"ms_min": min(times), "ms_median": statistics.median(times), "repeats": repeats}
