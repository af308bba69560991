"""What every benchmark prints alongside its figures: the machine, and JSON lines on disk."""
from __future__ import annotations

import json
from pathlib import Path

from ttm.machine import describe as machine  # noqa: F401  (the one description, also ttm.ablate's)


def write_jsonl(path, lines: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
