"""Soak: the app headless, training, for --minutes; its resident memory every --every seconds.

    python3 bench/soak.py [--minutes 60] [--every 60] [--history 500] [--snapshot-every 1]
                          [--out docs/soak.jsonl] [-- extra app.py arguments, e.g. --from-scratch --tiny]

Starts `app.py --headless` (continuing the shipped model, as `python3 app.py` does; its checkpoint
goes to a temporary folder) as a child process, reads its /proc/PID/status once at the start of
training and then every --every seconds, one JSON line each (resident, anonymous and file-backed
memory, the peak so far, threads), and finally stops it with SIGTERM, as `kill` would: the app
saves and exits. The last line sums up: the snapshots received, when the history ring was full
(estimated from the snapshot rate: snapshots arrive between training steps, so slower than
--snapshot-every when steps are slow), and the growth of resident memory from the first sample at
or after that time to the last one, the figure a long run is judged by.
"""
from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import report  # noqa: E402

STATUS_FIELDS = {"VmRSS": "rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb",
                 "VmHWM": "peak_rss_mb", "Threads": "threads"}


def memory(pid: int) -> dict:
    """The process's resident memory figures (MB) and thread count from /proc/PID/status."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in STATUS_FIELDS:
            number = int(value.split()[0])
            figures[STATUS_FIELDS[key]] = number if key == "Threads" else round(number / 1024, 1)
    return figures


def summarize(samples: list[dict], full_at_s: float | None) -> dict:
    """Peak and growth figures over the samples; growth counts from the first sample at or after
    `full_at_s` (None: the history never filled, so no growth figure)."""
    rss = [s["rss_mb"] for s in samples]
    after = [s["rss_mb"] for s in samples if full_at_s is not None and s["t_s"] >= full_at_s]
    growth = (100 * (after[-1] - after[0]) / after[0]) if len(after) >= 2 else None
    return {"rss_first_mb": rss[0], "rss_last_mb": rss[-1], "rss_max_mb": max(rss),
            "rss_after_full_first_mb": after[0] if after else None,
            "growth_after_full_pct": None if growth is None else round(growth, 2),
            "samples_after_full": len(after)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python3 bench/soak.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=60.0, help="how long the app trains")
    p.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--history", type=int, default=500, help="the app's --history")
    p.add_argument("--snapshot-every", type=float, default=1.0, help="the app's --snapshot-every")
    p.add_argument("--out", default=None, help="also write the JSON lines here")
    p.add_argument("app_args", nargs="*", help="more app.py arguments (after --)")
    return p.parse_args(argv)


def _wait_for_training(proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Until the app says it trains (its SIGTERM handler is then in place)."""
    deadline = time.monotonic() + timeout
    while "saves to" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"error: the app did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ttm-soak-"))
    err_log, out_log = folder / "stderr.txt", folder / "stdout.txt"
    cmd = [sys.executable, str(ROOT / "app.py"), "--headless", "--frames", str(10**9),
           "--history", str(args.history), "--snapshot-every", str(args.snapshot_every),
           "--out", str(folder / "soak.pt"), *args.app_args]
    with open(err_log, "w") as err, open(out_log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
    lines = []
    try:
        _wait_for_training(proc, err_log)
        start = time.monotonic()
        while proc.poll() is None:
            t = time.monotonic() - start
            report.emit(lines, {"bench": "soak", "t_s": round(t, 1), "minute": round(t / 60, 2),
                                **memory(proc.pid)})
            if t >= 60 * args.minutes:
                break
            time.sleep(min(args.every, max(0.0, 60 * args.minutes - t)))
        duration = time.monotonic() - start
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    m = re.search(r"snapshots (\d+), training step (\d+), saved (\S+)", out_log.read_text())
    snapshots = int(m.group(1)) if m else None
    full_at = duration * args.history / snapshots if snapshots and snapshots >= args.history else None
    report.emit(lines, {"bench": "soak_summary", "minutes": round(duration / 60, 2),
                        "every_s": args.every, "history": args.history,
                        "snapshot_every_s": args.snapshot_every, "snapshots": snapshots,
                        "history_full_at_s": None if full_at is None else round(full_at),
                        **summarize(lines, full_at), "exit_status": status,
                        "saved_on_sigterm": bool(m and m.group(3) != "nothing"),
                        "app_args": args.app_args, "machine": report.machine(None)})
    report.write_jsonl(args.out, lines)
    return lines


if __name__ == "__main__":
    main()
