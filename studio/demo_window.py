"""demo.py's window: one trace, step by step, in the same 3-D view as the app (no training),
with the app's panels but training's: walk-through, inspector, Why?, view, performance, timeline."""
from __future__ import annotations

from studio.trace_viewer import HEADLESS, TraceViewer  # first: it sets pyglet up (viz.window)

from studio.controller import Controller  # noqa: I001
from studio.panel_frame import Rect, layout
from studio.walkthrough import verdict
from studio.window_size import parse_size
from studio.walkthrough_panel import walkthrough_panel


class DemoViewer(TraceViewer):
    def draw_panels(self) -> None:
        rects = layout(self.get_size())
        # the app's frame, with no training: the walk-through where the app has the inspector,
        # the inspector and the Why? panel where it has training
        walkthrough_panel(self.controller, rects["inspector"])
        self.panels.view.draw(rects["view"])
        left = rects["training"]
        self.panels.inspector.draw(Rect(left.x, left.y, left.w, left.h * 0.5))
        self.panels.causal.draw(Rect(left.x, left.y + left.h * 0.5, left.w, left.h * 0.5))
        self.panels.performance.draw(rects["performance"], self.measured())
        self.panels.timeline.draw(rects["timeline"])


def run(model, problem, args) -> int:
    from ttm.graph import extract

    from ttm.confidence import tables_beside
    controller = Controller(model.trace(*problem))
    controller.other_models = tables_beside(args.checkpoint)
    controller.set_step(args.step)
    viewer = DemoViewer(controller, graph=extract(model), size=parse_size(args.size),
                        caption=f"Token Turing Machine - {problem[0]} × {problem[1]}", layout=args.layout,
                        fps_target=args.fps_target)
    if args.compare:
        try:
            viewer.compare_with(args.compare)
        except ValueError as err:          # InputError too
            viewer.close()
            print(f"error: --compare: {err}")
            return 2
    frames = args.frames if args.frames is not None else (3 if HEADLESS else None)
    try:
        if frames is None:
            if args.screenshot:
                viewer.save_screenshot(args.screenshot)
            viewer.run()
        else:
            viewer.run_frames(frames, screenshot=args.screenshot)
    finally:
        viewer.close()
    print(verdict(controller.trace))
    return 0
