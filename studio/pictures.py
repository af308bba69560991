"""The README's pictures of the flow view, drawn headless (EGL) with the shipped model:

    python3 -m studio.pictures --out docs       # flow, graph, compare, causal, propagation, probes .png

The scene alone, as the window shows it between the panels: 37 × 42 at step 1 (flow.png), the fx
graph under it (graph.png), 38 × 42 − 37 × 42 at step 1 (compare.png), the slot effects of step 1
painted over its memory (causal.png), and the graph coloured by how far each node moved once the
slot that matters most is set to its mean (propagation.png), and the memory entering and leaving
step 2 painted by how well each slot alone tells a's tens (probes.png).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = (1600, 900)
MARGIN = 1.04


def front_view(camera, lo, hi, aspect: float) -> None:
    """Look straight down -z at the box, as close as it fits."""
    centre = (np.asarray(lo) + np.asarray(hi)) / 2
    w, h = hi[0] - lo[0], hi[1] - lo[1]
    t = math.tan(math.radians(camera.fov_y) / 2)
    d = MARGIN * max(h / 2 / t, w / 2 / t / aspect)
    camera.yaw = camera.pitch = 0.0
    camera.position = np.array([centre[0], centre[1], hi[2] + d])
    camera.distance, camera.near, camera.far = d, d / 1000, 20 * d


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="docs")
    p.add_argument("--checkpoint", default="models/ttm-multiply.pt")
    args = p.parse_args(argv)

    import ttm
    from studio.controller import Controller
    from studio.flow_view import FlowSync
    from ttm.graph import extract
    from viz.flow_scene import FlowScene
    from viz.offscreen import render_offscreen

    model = ttm.load(args.checkpoint)
    controller = Controller(model.trace(37, 42))
    controller.set_step(1)
    sync = FlowSync(FlowScene(aspect=SIZE[0] / SIZE[1]), controller, graph=extract(model))
    deadline = time.monotonic() + 60
    while "graph" not in sync.scene and time.monotonic() < deadline:   # laid out on a worker
        sync.update()
        time.sleep(0.05)
    scene, aspect, out = sync.scene, SIZE[0] / SIZE[1], Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def shot(box, name: str) -> None:
        front_view(scene.camera, *box, aspect)
        sync.show_steps_near(scene.camera)
        Image.fromarray(render_offscreen(scene, SIZE, samples=4)[..., :3]).save(out / name)
        print(f"wrote {out / name}")

    shot(sync.step_box(), "flow.png")
    shot(scene.group_box({"graph", "graph.text"}), "graph.png")
    sync.compare.set_problem("38x42", model.config.max_digits)
    sync.update()
    shot(sync.step_box(), "compare.png")
    sync.compare.clear()

    # Asking why: which slots the answer needs at step 1, then the top one set to its mean.
    controller.set_ablation("mean")
    controller.set_causal_overlay(True)
    controller.wait_causal()
    sync.update()
    top = controller.slot_effects().ranked(1)[0]
    shot(sync.step_box(), "causal.png")
    before = controller.trace.answer
    controller.ablate_slots([top])
    controller.set_causal_overlay(False)
    sync.update()
    print(f"slot {top} set to its mean entering step 1: {before} -> {controller.trace.answer}")
    shot(scene.group_box({"graph", "graph.text", "overlay.graph"}), "propagation.png")

    # Which slots hold a digit: a's tens entering step 2 (one slot in five tells it 90%+).
    controller.reset_edits()
    controller.set_step(2)
    controller.set_probe_digit("a1")
    controller.wait_causal(120)
    sync.update()
    shot(sync.step_box(), "probes.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
