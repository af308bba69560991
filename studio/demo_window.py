"""demo.py's window: one trace, step by step, in the same 3-D view as the app (no training)."""
from __future__ import annotations

from studio.client import TraceClient
from studio.controller import Controller
from studio.panels import MARGIN, Rect, layout, walkthrough_panel
from studio.shell import Shell, prepare


class DemoClient(TraceClient):
    def draw_ui(self, size) -> None:
        rects = layout(size)
        right = rects["inspector"]
        walkthrough_panel(self.controller, Rect(right.x, right.y, right.w,
                                                rects["view"].y + rects["view"].h - right.y))
        left = rects["training"]
        self.panels.inspector(Rect(left.x, left.y, left.w, left.h * 0.5))
        self.panels.timeline(rects["timeline"])


def run(model, problem, args) -> int:
    headless = prepare(args.headless)
    from studio.panels import Panels
    from ttm.graph import extract

    w, h = (int(v) for v in args.size.lower().split("x"))
    controller = Controller(model.trace(*problem))
    controller.set_step(args.step)
    client = DemoClient(controller, graph=extract(model))
    client.panels = Panels(controller, client.sync)
    shell = Shell(client, (w, h), caption=f"Token Turing Machine - {problem[0]} × {problem[1]}",
                  headless=headless)
    client.attach(shell)
    try:
        shell.run(frames=args.frames if args.frames is not None else (3 if headless else None),
                  screenshot=args.screenshot)
    finally:
        shell.close()
    t = controller.trace
    print(f"{t.problem} = {t.answer} ({'correct' if t.correct else f'wrong, the answer is {t.expected}'})")
    return 0
