"""Look at any saved tensor in 3-D.

    python -m studio.preview tensor.npy [--name memory]       # a window; hover shows index and value
    python -m studio.preview t.pt --headless --frames 3 --screenshot out.png

The mapper is chosen by --name as everywhere else (viz.mappers.map_tensor); a name nothing is
registered for gets the generic N-D grid.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def load(path: str | Path, key: str | None = None) -> np.ndarray:
    """A .npy array, or a tensor saved with torch.save (a dict of them needs `key`)."""
    path = Path(path)
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    import torch  # only for a .pt file: the window opens faster on a .npy
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if key is None and len(tensors) == 1:
            key = next(iter(tensors))
        if key not in tensors:
            raise SystemExit(f"{path} holds several tensors, pick one with --key: {sorted(tensors)}")
        obj = tensors[key]
    if not isinstance(obj, torch.Tensor):
        raise SystemExit(f"{path} holds a {type(obj).__name__}, not a tensor")
    return obj.detach().float().numpy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Show a saved tensor as voxels.")
    ap.add_argument("path", help=".npy or .pt file")
    ap.add_argument("--name", default="tensor", help="semantic name that picks the mapper (memory, attention, ...)")
    ap.add_argument("--key", help="which tensor of a .pt dict")
    ap.add_argument("--size", default="1280x720", help="window size WxH")
    ap.add_argument("--headless", action="store_true", help="no display: render offscreen through EGL")
    ap.add_argument("--frames", type=int, default=0, help="draw this many frames, then exit (0: run until closed)")
    ap.add_argument("--screenshot", help="write a PNG of the last frame here")
    args = ap.parse_args(argv)

    if args.headless:
        os.environ.pop("DISPLAY", None)   # viz.window reads it when imported: headless pyglet + EGL
    from viz.mappers import map_tensor
    from viz.scene import Scene
    from viz.window import Viewer

    data = load(args.path, args.key)
    w, h = (int(v) for v in args.size.lower().split("x"))
    scene = Scene(aspect=w / h)
    layout = map_tensor(args.name, data)
    scene.set_layout(layout)
    viewer = Viewer(scene, w, h, caption=f"{args.name} {list(data.shape)} - {args.path}",
                    visible=not args.headless)
    scene.camera.yaw, scene.camera.pitch = 20.0, -15.0   # three-quarter view: front, side and top
    viewer.frame_all()
    print(f"{layout.label}: {layout.count} voxels, range {layout.value_range}, "
          f"GL {viewer.ctx.info['GL_RENDERER']}")
    if args.frames or args.headless:
        viewer.run_frames(max(args.frames, 1), screenshot=args.screenshot)
        viewer.close()
    else:
        if args.screenshot:
            viewer.save_screenshot(args.screenshot)
        viewer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
