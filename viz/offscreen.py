"""Render and pick without a window, on the process's shared GL context (viz.gl_context)."""
from __future__ import annotations

import weakref

import moderngl
import numpy as np

from viz import gl_context
from viz.lod import FULL_DETAIL, Detail
from viz.picking import Pick, Picker
from viz.renderer import Renderer
from viz.scene import Scene

_renderers: "weakref.WeakKeyDictionary[Scene, Renderer]" = weakref.WeakKeyDictionary()
_picker: Picker | None = None
_target: tuple[tuple, moderngl.Framebuffer, moderngl.Framebuffer | None] | None = None


def renderer_for(scene: Scene) -> Renderer:
    """One renderer per live scene, so repeated renders upload only what changed."""
    renderer = _renderers.get(scene)
    if renderer is None:
        renderer = _renderers[scene] = Renderer(gl_context.get())
    return renderer


def _framebuffers(size: tuple[int, int], samples: int) -> tuple[moderngl.Framebuffer, moderngl.Framebuffer | None]:
    """(draw target, resolve target or None), RGBA8 + depth24, kept while the size stays the same."""
    global _target
    key = (size, samples)
    if _target is None or _target[0] != key:
        ctx = gl_context.get()
        draw = ctx.framebuffer([ctx.renderbuffer(size, 4, samples=samples)],
                               ctx.depth_renderbuffer(size, samples=samples))
        resolve = ctx.framebuffer([ctx.renderbuffer(size, 4)]) if samples else None
        # bound before the old target goes: moderngl binds the current framebuffer again after
        # making one, and binding a deleted one is a GL_INVALID_OPERATION
        draw.use()
        old, _target = _target, (key, draw, resolve)
        for fbo in old[1:] if old is not None else ():
            if fbo is not None:
                gl_context.release_framebuffer(fbo)
    return _target[1], _target[2]


def render_offscreen(scene: Scene, size: tuple[int, int] = (1280, 720), samples: int = 0,
                     view=None, proj=None, detail: Detail = FULL_DETAIL) -> np.ndarray:
    """(h, w, 4) uint8 RGBA image of `scene`, top row first. `samples` > 0 antialiases (MSAA);
    `detail` as viz.adaptive would draw a moving frame."""
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        return np.zeros((max(h, 0), max(w, 0), 4), np.uint8)
    ctx = gl_context.get()
    previous = ctx.fbo   # bound again afterwards, unless released meanwhile (a new size releases ours)
    draw, resolve = _framebuffers((w, h), samples)
    draw.use()
    renderer_for(scene).render(scene, (w, h), view=view, proj=proj, detail=detail)
    if resolve is not None:
        ctx.copy_framebuffer(resolve, draw)
    pixels = (resolve or draw).read(components=4, dtype="f1")
    if previous is not None and not isinstance(previous.mglo, moderngl.InvalidObject):
        previous.use()
    return np.frombuffer(pixels, np.uint8).reshape(h, w, 4)[::-1].copy()


def pick_offscreen(scene: Scene, size: tuple[int, int], x: float, y: float, view=None, proj=None) -> Pick | None:
    """The voxel at pixel (x, y) (from the top-left) of `scene` rendered at `size`, or None."""
    global _picker
    if _picker is None:
        _picker = Picker(gl_context.get())
    return _picker.pick(renderer_for(scene), scene, x, y, size, view=view, proj=proj)
