"""The --size flag of app.py and demo.py: "WxH", or "screen" for a window as large as the screen
(TraceViewer asks the display; headless renders get HEADLESS_SIZE)."""
from __future__ import annotations

HEADLESS_SIZE = (1280, 720)


def parse_size(text: str) -> tuple[int, int] | None:
    """(w, h) from "WxH", None for "screen"; SystemExit with the fix for anything else."""
    if text.lower() == "screen":
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"error: --size {text!r} is not WIDTHxHEIGHT (e.g. 1280x720) or screen") from None
    return max(w, 1), max(h, 1)
