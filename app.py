"""Train a Token Turing Machine to multiply and fly through its memory while it learns.

    python app.py                    continue training the shipped model (models/ttm-multiply.pt)
    python app.py --from-scratch     a fresh model
    python app.py --resume runs/app.pt   pick up where the last session stopped
    python app.py --headless --frames 200 --screenshot out.png   no display needed (EGL)

Training runs in a background thread (CUDA when present, else CPU) and publishes snapshots; the
window draws memory, read/write weights and attention of a sample problem and the model's fx graph
as voxels. Esc quits: the trainer stops and its checkpoint is written atomically to --out
(runs/app.pt by default; the shipped model is never overwritten).

Keys: space plays the trace, left/right arrows step, Home/End jump, Ctrl+Z undoes an edit; WASD
Q/E fly, drag looks, middle or alt drag orbits, scroll zooms, F frames, G flies to the graph,
R resets, F12 screenshot.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

SHIPPED = "models/ttm-multiply.pt"


def parse_args(argv=None) -> argparse.Namespace:
    from studio.view_flags import add_view_flags
    from studio.arguments import (device, minus_signs_as_values, png_path, seconds, whole_number,
                                  window_size)
    from viz.adaptive import TARGET_HELP, frames_per_s
    p = argparse.ArgumentParser(prog="python app.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    start = p.add_mutually_exclusive_group()
    start.add_argument("--from-scratch", action="store_true", help="train a new model")
    start.add_argument("--resume", default=None,
                       help=f"checkpoint to continue from (default: {SHIPPED})")
    p.add_argument("--out", default="runs/app.pt", help="checkpoint written on exit (%(default)s)")
    p.add_argument("--device", type=device, default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--problem", default="37x42", help="sample problem traced live (%(default)s)")
    p.add_argument("--digits", type=whole_number(1), default=None, help="final curriculum stage (operand digits)")
    p.add_argument("--history", type=whole_number(1), default=500, help="snapshots kept for replay (%(default)s)")
    p.add_argument("--snapshot-every", type=seconds, default=1.0, help="seconds between snapshots")
    p.add_argument("--tiny", action="store_true", help="a small model (with --from-scratch): quick trials, tests")
    p.add_argument("--seed", type=whole_number(0), default=0)
    p.add_argument("--headless", action="store_true", help="render without a display (EGL)")
    p.add_argument("--frames", type=whole_number(1), default=None, help="quit after this many frames")
    p.add_argument("--screenshot", type=png_path, default=None, help="save a PNG of the last frame here")
    p.add_argument("--wait-snapshots", type=whole_number(0), default=0,
                   help="with --frames: keep drawing until this many snapshots arrived (at most 120 s)")
    p.add_argument("--size", type=window_size, default="screen", help="window size, WxH, or screen (%(default)s)")
    add_view_flags(p, "a second problem, traced with the same model, beside the first or as their difference")
    p.add_argument("--fps-target", type=frames_per_s, metavar="FPS", help=TARGET_HELP)
    args = p.parse_args(minus_signs_as_values(argv))
    if args.tiny and not args.from_scratch:
        p.error("--tiny makes a new model: use it with --from-scratch")
    return args


def window_size(text: str) -> tuple[int, int] | None:
    """(w, h) from "WxH"; None for "screen" (the window takes the screen's size)."""
    from studio.window_size import parse_size
    return parse_size(text)


TERMINATED = threading.Event()


def quit_between_frames(signum, frame) -> None:
    """SIGTERM (`kill`): quit as Esc does, between two frames; the trainer stops and saves. Not
    an exception raised wherever the main thread happens to be: one that lands while a library
    starts a worker thread leaves that thread for the interpreter's exit to wait on forever."""
    TERMINATED.set()
    import pyglet                         # loaded by then: the window exists
    pyglet.app.exit()                     # ends viewer.run()'s event loop; run_frames is checked


def build_trainer(args):
    """The Trainer, or SystemExit with a message a person can act on."""
    from studio.input_parse import InputError, parse_problem
    from ttm.model import TTMConfig
    from ttm.train import TrainConfig, Trainer

    resume = None if args.from_scratch else (args.resume or SHIPPED)
    out = Path(args.out)
    if out.resolve() == Path(SHIPPED).resolve():
        raise SystemExit(f"error: --out {args.out} would overwrite the shipped model; pick another path")
    model_config = TTMConfig.tiny() if args.tiny else None
    max_digits = (model_config or TTMConfig()).max_digits
    try:
        a, b = parse_problem(args.problem, max_digits)
    except InputError as err:
        raise SystemExit(f"error: --problem: {err}") from None
    cfg = TrainConfig(device=args.device, out=str(out), resume=resume, seed=args.seed,
                      snapshot_every_s=args.snapshot_every, sample_problem=(a, b))
    if args.digits is not None:
        cfg.digits = args.digits
    elif args.tiny:
        cfg.digits, cfg.eval_every, cfg.eval_problems = 2, 50, 64
    try:
        trainer = Trainer(cfg, model_config)
    except FileNotFoundError:
        hint = "--from-scratch to start a new model" if resume == SHIPPED else "another --resume path"
        raise SystemExit(f"error: no checkpoint at {resume}; use {hint}") from None
    except (OSError, ValueError) as err:  # a bad checkpoint, an unwritable --out, a bad setting
        raise SystemExit(f"error: {err}") from None
    return trainer


def main(argv=None) -> int:
    args = parse_args(argv)
    size = window_size(args.size)
    if args.headless:
        os.environ.pop("DISPLAY", None)   # viz.window reads it when imported: headless pyglet + EGL
    from studio.cores import share_cores
    share_cores()                         # before the trainer and the GL context make their threads
    trainer = build_trainer(args)

    from studio.controller import Controller
    from studio.trace_viewer import TraceViewer
    from ttm.graph import extract

    controller = Controller(trainer=trainer, history_size=args.history)
    if trainer.cfg.resume:                # the other checkpoints beside it, for the weak-cell advice
        from ttm.confidence import tables_beside
        controller.other_models = tables_beside(trainer.cfg.resume)
        controller.switch_flag = "--resume"
    trainer.publish()                     # the first picture before the first training step
    controller.poll()
    viewer = TraceViewer(controller, graph=extract(trainer.model), size=size,
                         caption="Token Turing Machine - training", checkpoint_out=args.out,
                         device=str(trainer.device), layout=args.layout, fps_target=args.fps_target)
    if args.compare:
        try:
            viewer.compare_with(args.compare)
        except ValueError as err:          # InputError too
            viewer.close()
            raise SystemExit(f"error: --compare: {err}") from None
    try:
        signal.signal(signal.SIGTERM, quit_between_frames)
        trainer.start()
        print(f"training from step {trainer.step} on {trainer.device}; Esc, Ctrl-C or kill saves "
              f"to {args.out}", file=sys.stderr)
        if args.frames is None:
            if args.screenshot:
                viewer.save_screenshot(args.screenshot)
            viewer.run()
        else:
            deadline = time.monotonic() + 120
            while (controller.snapshots_received < args.wait_snapshots and not viewer.closed
                   and not TERMINATED.is_set() and time.monotonic() < deadline):
                viewer.run_frames(1)
            for i in range(args.frames):
                if viewer.closed or TERMINATED.is_set():
                    break
                viewer.run_frames(1, screenshot=args.screenshot if i == args.frames - 1 else None)
    except KeyboardInterrupt:             # Ctrl-C: quit as Esc does, without a traceback
        pass
    finally:
        viewer.close()                    # on_quit: the trainer stops and saves
    print(f"frames {viewer.frames}, snapshots {controller.snapshots_received}, "
          f"training step {trainer.step}, saved {viewer.saved or 'nothing'}")
    if controller.training_error and trainer.error is not trainer.save_error:
        print(f"training stopped by an error: {controller.training_error}", file=sys.stderr)
    if trainer.save_error:
        print(f"error: {trainer.save_error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
