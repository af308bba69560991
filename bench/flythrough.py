"""A scripted fly-through of the shipped model's trace while it trains, the app's own way.

    python -m bench.flythrough [--seconds 20] [--size 1280x720] [--layout flow|grid]
                               [--out docs/flythrough.jsonl] [--torch-threads N] [--lp-threads N]

One process, set up the way `python app.py --headless` is: the cores shared as app.py shares them
(studio.cores), a Trainer configured as app.py's defaults configure it (continuing
models/ttm-multiply.pt, a snapshot of 37 x 42 every second) in its thread, a Controller, and the
app's window (studio.trace_viewer.TraceViewer:
panels, redraw on demand, adaptive detail) on pyglet's event loop, rendering through EGL at
--size; memory is shown at every step. Three phases of --seconds each, in one run:

    no view    the trainer alone, before the window exists
    idle view  the window open, nobody touching it (snapshots land and are drawn)
    flying     the camera follows a path: the overview, into the memory stack, along the steps,
               past the graph and back out, while snapshots keep landing

The trainer's curriculum evaluation (every 250 steps, a few seconds of scoring) is turned off, so
all three phases time the same work: optimizer steps and snapshots. Frame time is the time from
one drawn frame to the next while flying (what a person sees); draw time is a frame's own cost.
One JSON line per phase; the last line has the figures.
"""
from __future__ import annotations

import argparse
import inspect
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import report
from studio.cores import share_cores
from viz.adaptive import frames_per_s

SETTLE_S = 3.0       # before a phase: the trainer warms up, the window draws its first frames
APP_SNAPSHOT_S, APP_PROBLEM, APP_HISTORY = 1.0, (37, 42), 500   # app.py's defaults


def smooth(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def gapped_axis(positions: np.ndarray) -> int:
    """The axis along which voxels stand in layers with gaps between them (the fewest occupied
    coordinates for the extent): where one group's sheets are stacked."""
    occupied = [len(np.unique(np.round(positions[:, a]))) / (np.ptp(positions[:, a]) + 1) for a in range(3)]
    return int(np.argmin(occupied))


class FlyPath:
    """Keyframes (camera position, point looked at) from where the scene's groups stand, in any
    layout: the start pose (the overview), close in front of the memory groups, beside them from
    the first step to beyond the last, past the graph, and back; visited in equal time slices with
    eased motion in between. `at(u)` for u in [0, 1]."""

    def __init__(self, scene, start_position: np.ndarray, start_target: np.ndarray):
        placed = [g for g in scene if g.placement is not None]   # steps out of view included
        memory = [g for g in placed if "memory" in g.name] or placed
        lo = np.min([g.placement.bbox_min for g in memory], axis=0).astype(float)
        hi = np.max([g.placement.bbox_max for g in memory], axis=0).astype(float)
        centre = (lo + hi) / 2
        centres = np.array([(np.asarray(g.placement.bbox_min) + g.placement.bbox_max) / 2 for g in memory])
        spread = np.ptp(centres, axis=0)
        # steps: groups apart along one axis (a flow), or sheets with gaps between them in one group
        a = int(spread.argmax()) if spread.max() > 0 else gapped_axis(memory[0].layout.positions)
        along = np.eye(3)[a] * (1.0 if start_position[a] >= centre[a] else -1.0)   # toward the start
        width = float(np.delete(hi - lo, a).max())
        aside = np.cross(along, [0.0, 1.0, 0.0]) if a != 1 else np.array([1.0, 0.0, 0.0])
        aside = aside / np.linalg.norm(aside)
        half = float((hi - lo)[a]) / 2
        near, far = centre + along * half, centre - along * half
        lift = np.array([0.0, 0.1 * width, 0.0])
        self.keys = [(np.asarray(start_position, float), np.asarray(start_target, float)),
                     (near + along * 0.35 * width, centre),
                     (near + along * 0.15 * width - aside * 0.45 * width + lift, centre),
                     (far - along * 0.1 * width - aside * 0.45 * width + lift, far)]
        self.segments = ["into the memory", "to the first step", "along the steps"]
        if "graph" in scene and scene["graph"].visible:
            g = scene["graph"].placement
            graph = (np.asarray(g.bbox_min, float) + g.bbox_max) / 2
            size = float(np.max(np.asarray(g.bbox_max, float) - g.bbox_min))
            away = self.keys[0][0] - graph
            self.keys.append((graph + away / np.linalg.norm(away) * 0.8 * size, graph))
            self.segments.append("to the graph")
        self.keys.append(self.keys[0])
        self.segments.append("back out")

    def segment(self, u: float) -> int:
        return min(int(u * (len(self.keys) - 1)), len(self.keys) - 2)

    def at(self, u: float) -> tuple[np.ndarray, np.ndarray]:
        k = self.segment(u)
        t = smooth(min(u * (len(self.keys) - 1) - k, 1.0))
        (p0, t0), (p1, t1) = self.keys[k], self.keys[k + 1]
        return p0 + (p1 - p0) * t, t0 + (t1 - t0) * t


def percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"p50": None, "p95": None, "max": None}
    a = np.asarray(ms)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "max": round(float(a.max()), 2)}


class StepTimes:
    """When the trainer's example count moved: sampled often (`sample`), so that a rate counts
    whole steps between the first and the last one seen, not the fraction of a step at each end."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.seen: list[tuple[float, int]] = []

    def sample(self) -> None:
        examples = self.trainer.examples
        if not self.seen or examples != self.seen[-1][1]:
            self.seen.append((time.perf_counter(), examples))

    def rate(self, wait, seconds: float) -> float:
        """Examples/s over `wait(seconds)`, which must call `sample` every few milliseconds."""
        self.seen = []
        self.sample()
        wait(seconds)
        if not self.trainer.alive:
            raise SystemExit(f"error: the trainer stopped: {self.trainer.error!r}")
        (t0, e0), (t1, e1) = self.seen[1], self.seen[-1]   # seen[0]: partway through a step
        if e1 == e0:
            raise SystemExit(f"error: fewer than two training steps in {seconds} s: make --seconds longer")
        return (e1 - e0) / (t1 - t0)


def sleep_sampling(steps: StepTimes, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        steps.sample()
        time.sleep(0.005)


def make_viewer(controller, steps: StepTimes, **options):
    """The app's window, recording each frame it draws (import after the headless switch)."""
    import pyglet

    from studio.trace_viewer import TraceViewer

    class FlyViewer(TraceViewer):
        def __init__(self):
            super().__init__(controller, **options)
            self.path: FlyPath | None = None
            self.until = 0.0           # the phase's end (perf_counter)
            self.started = 0.0
            self.log: list[tuple] = []  # (end of frame, draw ms, level, segment or None)

        def update(self, dt: float) -> bool:
            steps.sample()
            now = time.perf_counter()
            if now >= self.until:
                pyglet.app.exit()
            elif self.path is not None:
                position, target = self.path.at((now - self.started) / (self.until - self.started))
                cam = self.scene.camera
                cam.position = position
                cam.look_at(target)
            return super().update(dt)

        def draw_frame(self, dt: float, moving: bool = False) -> None:
            super().draw_frame(dt, moving)
            segment = None
            if self.path is not None:
                segment = self.path.segment((time.perf_counter() - self.started) / (self.until - self.started))
            self.log.append((time.perf_counter(), self.perf["frame_ms"], self.adaptive.level, segment))

        def run_for(self, seconds: float, path: FlyPath | None = None) -> list[tuple]:
            """pyglet's event loop for `seconds` (the window's own run()); the frames drawn."""
            self.log, self.path = [], path
            self.started = time.perf_counter()
            self.until = self.started + seconds
            self.run()
            return self.log

    return FlyViewer()


def flying_line(log: list[tuple], seconds: float, segments: list[str]) -> dict:
    ends = [e for e, *_ in log]
    gaps = list(1000.0 * np.diff(ends))           # frame k's time: from frame k-1's end to its own
    draws = [ms for _, ms, _, _ in log]
    levels = [lv for _, _, lv, _ in log]
    per_segment = {}
    for k, name in enumerate(segments):
        seg = [g for g, (_, _, _, s) in zip(gaps, log[1:]) if s == k]
        per_segment[name] = {"frames": len(seg), **percentiles(seg)}
    return {"phase": "flying", "seconds": seconds, "frames": len(log),
            "frames_per_s": round(len(log) / seconds, 2), "frame_ms": percentiles(gaps),
            "draw_ms": percentiles(draws), "segments": per_segment,
            "levels": {str(lv): levels.count(lv) for lv in sorted(set(levels))}}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each phase (%(default)s)")
    ap.add_argument("--size", default="1280x720", help="window WxH (%(default)s)")
    ap.add_argument("--checkpoint", default="models/ttm-multiply.pt", help="model trained on (%(default)s)")
    ap.add_argument("--fps-target", type=frames_per_s, default=None, help="frame-rate target (default: the app's)")
    ap.add_argument("--layout", default=None, help="the view's layout (default: the app's)")
    ap.add_argument("--torch-threads", type=int, default=None, help="instead of studio.cores' choice")
    ap.add_argument("--lp-threads", type=int, default=None, help="LP_NUM_THREADS instead of studio.cores' choice")
    ap.add_argument("--out", default=None, help="also write the JSON lines here")
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))

    os.environ.pop("DISPLAY", None)     # as app.py --headless: viz.window reads it when imported
    torch_threads, lp_threads = share_cores(args.torch_threads, args.lp_threads)
    from studio.controller import Controller
    from studio.trace_viewer import TraceViewer
    from ttm.graph import extract
    from ttm.train import TrainConfig, Trainer

    layout = args.layout or inspect.signature(TraceViewer).parameters["layout"].default

    lines = []

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "fly.pt")
        trainer = Trainer(TrainConfig(device="auto", out=out, resume=args.checkpoint, seed=0,
                                      snapshot_every_s=APP_SNAPSHOT_S, sample_problem=APP_PROBLEM,
                                      eval_every=10**9))   # no curriculum evaluation: see above
        controller = Controller(trainer=trainer, history_size=APP_HISTORY)
        controller.set_all_memory(True)
        trainer.publish()
        controller.poll()
        graph = extract(trainer.model)      # before training starts: fx tracing patches Module calls
        trainer.start()
        time.sleep(SETTLE_S)
        steps = StepTimes(trainer)
        no_view = steps.rate(lambda s: sleep_sampling(steps, s), args.seconds)
        report.emit(lines, {"phase": "no_view", "seconds": args.seconds, "train_ex_s": round(no_view, 2)})

        viewer = make_viewer(controller, steps, graph=graph, size=size,
                             caption="Token Turing Machine - fly-through", fps_target=args.fps_target,
                             checkpoint_out=out, device=str(trainer.device), layout=layout)
        gl = viewer.ctx.info["GL_RENDERER"]
        try:
            viewer.run_for(SETTLE_S)
            drawn = []
            idle = steps.rate(lambda s: drawn.extend(viewer.run_for(s)), args.seconds)
            report.emit(lines, {"phase": "idle_view", "seconds": args.seconds, "frames": len(drawn),
                                "train_ex_s": round(idle, 2)})
            cam = viewer.scene.camera
            path = FlyPath(viewer.scene, cam.position.copy(), cam.focus.copy())
            log = []
            flying = steps.rate(lambda s: log.extend(viewer.run_for(s, path)), args.seconds)
            report.emit(lines, {**flying_line(log, args.seconds, path.segments),
                                "train_ex_s": round(flying, 2)})
        finally:
            viewer.close()              # on_quit: the trainer stops (and saves into tmp)
        fly = lines[-1]
        report.emit(lines, {"bench": "flythrough", "layout": layout, "size": list(size),
                            "seconds_per_phase": args.seconds,
                            "frame_ms_p50": fly["frame_ms"]["p50"], "frame_ms_p95": fly["frame_ms"]["p95"],
                            "frame_ms_max": fly["frame_ms"]["max"], "draw_ms_p95": fly["draw_ms"]["p95"],
                            "fps_target": viewer.adaptive.target_fps,
                            "train_ex_s_no_view": round(no_view, 2), "train_ex_s_idle_view": round(idle, 2),
                            "train_ex_s_flying": round(flying, 2), "idle_vs_no_view": round(idle / no_view, 3),
                            "flying_vs_no_view": round(flying / no_view, 3), "idle_frames": lines[1]["frames"],
                            "torch_threads": torch_threads, "lp_num_threads": lp_threads,
                            "gl": gl, "machine": report.machine(torch_threads),
                            "load": round(os.getloadavg()[0], 2)})
    report.write_jsonl(args.out, lines)
    return lines[-1]


if __name__ == "__main__":
    main()
