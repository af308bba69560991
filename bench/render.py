"""Frames per second of viz.renderer against a bare instanced-cube draw, on this machine's GL.

    python -m bench.render [--sizes 10000,100000,1000000] [--close 1000000] [--frames 5]
                           [--size 1280x720] [--no-trace]

One JSON line per figure. Scenes are made of tensors of at most 100k values (like a trace), seen
whole from a three-quarter view; the --close blocks are seen from a third of that distance, where
they overflow the screen. "update" cases rewrite one tensor's 100k values every frame
(Scene.update_values for the renderer, buffer.write for the bare draw). Frames are timed to
ctx.finish(), so a CPU rasterizer's work is counted. "adaptive" is the renderer while the view
moves, at the level of detail viz.adaptive picks to hold --fps-target (frames back to back, not
paced, after it settled): its frames/s, its frame cost and the level.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import moderngl
import numpy as np

from bench import report
from viz import gl_context
from viz.adaptive import AdaptiveDetail, frames_per_s
from viz.draw.base import UNIT_LUT
from viz.mappers import map_tensor
from viz.renderer import Renderer
from viz.scene import Scene
from viz.shaders import mat_bytes, program, set_uniforms

UPDATE = 100_000
TRACE = {"memory": (8, 96, 128), "read.weights": (7, 16, 106), "write.weights": (7, 96, 122),
         "attention": (7, 4, 4, 16, 16)}


def block_scene(n: int, rng: np.random.Generator) -> Scene:
    """n voxels as tensors of (up to) 10 x 100 x 100 values."""
    scene = Scene()
    left, i = n, 0
    while left > 0:
        k = min(left, UPDATE)
        depth = max(1, k // 10_000)
        shape = (depth, 100, k // (100 * depth)) if k >= 100 else (1, 1, k)
        scene.set_layout(map_tensor(f"block.{i}", rng.standard_normal(shape).astype(np.float32)))
        left -= int(np.prod(shape))
        i += 1
    return scene


def trace_scene(rng: np.random.Generator) -> Scene:
    scene = Scene()
    for name, shape in TRACE.items():
        data = rng.standard_normal(shape) if name == "memory" else rng.random(shape)
        scene.set_layout(map_tensor(name, data.astype(np.float32)))
    return scene


def three_quarter_view(scene: Scene, aspect: float, closer: float = 1.0) -> None:
    """Framed whole from the front-left and above; `closer` > 1 divides the distance."""
    lo, hi = scene.bbox()
    cam = scene.camera
    cam.frame(lo, hi, aspect)
    cam.orbit(cam.focus, 25.0, -20.0)
    focus = cam.focus
    cam.distance /= closer
    cam.position = focus - cam.forward * cam.distance


class Bare:
    """All voxels of the scene in one instance buffer, drawn as naive cubes every frame."""

    def __init__(self, ctx: moderngl.Context, scene: Scene, renderer: Renderer):
        self.ctx = ctx
        self.prog = program(ctx, "naive_cube")
        groups = list(scene)
        pos = np.concatenate([g.world(g.layout.positions) for g in groups]).astype(np.float32)
        val = np.concatenate([g.normalized() for g in groups]).astype(np.float32)
        self.n = len(val)
        corners, normals, idx = [], [], []
        for axis in range(3):
            for sign in (-1.0, 1.0):
                u, v = ((axis + 1) % 3, (axis + 2) % 3) if sign > 0 else ((axis + 2) % 3, (axis + 1) % 3)
                base = len(corners)
                for cu, cv in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
                    c = np.zeros(3)
                    c[axis], c[u], c[v] = 0.5 * sign, cu, cv
                    n = np.zeros(3)
                    n[axis] = sign
                    corners.append(c)
                    normals.append(n)
                idx += [base, base + 1, base + 2, base, base + 2, base + 3]
        mesh = np.hstack([corners, normals]).astype(np.float32)
        self.mesh = ctx.buffer(mesh.tobytes())
        self.ibo = ctx.buffer(np.array(idx, np.int32).tobytes())
        self.pos = ctx.buffer(pos.tobytes())
        self.val = ctx.buffer(val.tobytes())
        self.vao = ctx.vertex_array(self.prog, [(self.mesh, "3f 3f", "in_corner", "in_normal"),
                                                (self.pos, "3f/i", "in_pos"), (self.val, "f/i", "in_value")],
                                    self.ibo)
        self.renderer = renderer

    def render(self, scene: Scene, size) -> None:
        w, h = size
        view, proj = scene.camera.view_matrix(), scene.camera.projection_matrix(w / h)
        uniforms = dict(u_vp=mat_bytes(proj @ view), u_origin=(0.0, 0.0, 0.0), u_scale=1.0,
                        u_fill=self.renderer.fill, u_lut_row=0, **self.renderer.light_uniforms(view))
        set_uniforms(self.prog, uniforms)
        self.renderer.lut.use(UNIT_LUT)
        self.ctx.viewport = (0, 0, w, h)
        self.ctx.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self.ctx.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self.vao.render(moderngl.TRIANGLES, instances=self.n)

    def release(self) -> None:
        for obj in (self.vao, self.mesh, self.ibo, self.pos, self.val):
            obj.release()


def fps(ctx, frames: int, draw) -> float:
    draw(0)
    ctx.finish()
    t = time.perf_counter()
    for i in range(frames):
        draw(i + 1)
    ctx.finish()
    return frames / (time.perf_counter() - t)


def adaptive(ctx, scene: Scene, renderer: Renderer, size, fps_target: float, frames: int) -> dict:
    """The renderer with viz.adaptive choosing the detail while the camera turns a little each
    frame: `frames` to settle, then `frames` timed."""
    control = AdaptiveDetail(fps_target)
    cam = scene.camera
    focus = cam.focus

    def frame(i):
        cam.orbit(focus, 0.2, 0.0)
        detail = control.begin(moving=True)
        start = time.perf_counter()
        renderer.render(scene, size, detail=detail)
        ctx.finish()
        control.end(1000 * (time.perf_counter() - start))

    for i in range(frames):
        frame(i)
    rate = fps(ctx, frames, frame)
    costs = list(control.recent)[-frames:]
    return {"renderer_fps_adaptive": round(rate, 2), "adaptive_fps_target": fps_target,
            "adaptive_frame_ms_p95": round(float(np.percentile(costs, 95)), 2),
            "adaptive_level": control.level, "adaptive_render_scale": control.detail.render_scale}


def measure(name: str, scene: Scene, size, frames: int, rng, closer: float = 1.0,
            fps_target: float = 30.0) -> dict:
    ctx = gl_context.get()
    fbo = ctx.framebuffer([ctx.renderbuffer(size, 4)], ctx.depth_renderbuffer(size))
    fbo.use()
    aspect = size[0] / size[1]
    scene.relayout(aspect)
    three_quarter_view(scene, aspect, closer)
    renderer = Renderer(ctx)
    groups = list(scene)
    target = max(groups, key=lambda g: g.layout.count)   # the tensor rewritten each frame (<= 100k)
    new_values = rng.standard_normal((2, target.layout.count)).astype(np.float32)

    def render(i):
        renderer.render(scene, size)

    def render_update(i):
        scene.update_values(target.name, new_values[i % 2])
        renderer.render(scene, size)

    out = {"case": name, "voxels": sum(g.layout.count for g in groups), "size": list(size),
           "frames": frames, "distance": "framing" if closer == 1 else f"framing / {closer:g}"}
    out["renderer_fps"] = round(fps(ctx, frames, render), 2)
    stats = renderer.stats.as_dict()
    view = scene.camera.position.copy(), scene.camera.yaw, scene.camera.pitch
    out.update(adaptive(ctx, scene, renderer, size, fps_target, 2 * frames))
    scene.camera.position, scene.camera.yaw, scene.camera.pitch = view
    out["renderer_fps_update"] = round(fps(ctx, frames, render_update), 2)

    # one update's cost: normalize + gather + write, to the GPU and finished
    ctx.finish()
    t = time.perf_counter()
    scene.update_values(target.name, new_values[0])
    renderer.sync(scene)
    ctx.finish()
    out["renderer_upload_ms"] = round(1000 * (time.perf_counter() - t), 2)
    out["update_values"] = target.layout.count

    bare = Bare(ctx, scene, renderer)
    out["bare_fps"] = round(fps(ctx, frames, lambda i: bare.render(scene, size)), 2)
    raw = [rng.random(target.layout.count).astype(np.float32) for _ in range(2)]

    def bare_update(i):
        bare.val.write(raw[i % 2], offset=0)
        bare.render(scene, size)

    out["bare_fps_update"] = round(fps(ctx, frames, bare_update), 2)
    ctx.finish()
    t = time.perf_counter()
    bare.val.write(raw[0], offset=0)
    ctx.finish()
    out["bare_upload_ms"] = round(1000 * (time.perf_counter() - t), 2)
    out["stats"] = {k: stats[k] for k in ("cubes", "sprites", "slab_voxels", "groups_culled", "draw_calls")}
    out["gl"] = gl_context.describe(ctx)
    out["machine"] = report.machine()
    out["load"] = round(os.getloadavg()[0], 2)
    bare.release()
    renderer.release()
    fbo.release()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="voxel counts, comma separated")
    ap.add_argument("--close", default="1000000", help="voxel counts seen from a third of the framing distance")
    ap.add_argument("--fps-target", type=frames_per_s, default=30.0, help="for the adaptive figures (%(default)s)")
    ap.add_argument("--frames", type=int, default=5, help="timed frames per figure")
    ap.add_argument("--size", default="1280x720", help="framebuffer WxH")
    ap.add_argument("--no-trace", action="store_true", help="skip the multiplication-trace scene")
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    rng = np.random.default_rng(0)
    cases = [(f"blocks-{n}", n, 1.0) for n in map(int, filter(None, args.sizes.split(",")))]
    cases += [(f"blocks-{n}-close", n, 3.0) for n in map(int, filter(None, args.close.split(",")))]
    for name, n, closer in cases:
        print(json.dumps(measure(name, block_scene(n, rng), size, args.frames, rng, closer,
                                 args.fps_target)), flush=True)
    if not args.no_trace:
        print(json.dumps(measure("trace", trace_scene(rng), size, args.frames, rng,
                                 fps_target=args.fps_target)), flush=True)


if __name__ == "__main__":
    main()
