"""The one OpenGL context of a process: the window's when there is a window, else a standalone EGL one.

HEADLESS_GL.md traps 4 and 5: a process must not mix a standalone EGL context with a window context,
so everything that needs GL (offscreen renders, tests, benchmarks) asks `get()` and shares one.
"""
from __future__ import annotations

import moderngl

REQUIRE = 330  # GLSL 330 / GL 3.3 core is all the shaders use

_ctx: moderngl.Context | None = None


def get() -> moderngl.Context:
    """The process's context: a window's if `for_window()` made one, else a standalone EGL context."""
    global _ctx
    if _ctx is None:
        _ctx = moderngl.create_standalone_context(backend="egl", require=REQUIRE)
        _ctx.gc_mode = "auto"  # GL objects die with their Python wrappers: offscreen scenes come and go
    return _ctx


def for_window() -> moderngl.Context:
    """Wrap the GL context that the window system made current (call after the window exists)."""
    global _ctx
    if _ctx is not None:
        if _ctx.screen is None:   # standalone contexts have no default framebuffer
            raise RuntimeError("this process already made a standalone EGL context; a window needs its "
                               "own process (HEADLESS_GL.md traps 4 and 5)")
        return _ctx
    try:
        _ctx = moderngl.create_context(require=REQUIRE)
    except Exception:  # a standalone context was made first by someone else (trap 4)
        moderngl.init_context()
        _ctx = moderngl.get_context()
    _ctx.gc_mode = "auto"
    return _ctx


def exists() -> bool:
    return _ctx is not None


def describe(ctx: moderngl.Context) -> str:
    """'llvmpipe (LLVM 15.0.6, 256 bits) / 4.5 (Core Profile) Mesa 22.3.6': for logs and benchmarks."""
    return f"{ctx.info['GL_RENDERER']} / {ctx.info['GL_VERSION']}"


def is_software(ctx: moderngl.Context) -> bool:
    """True on CPU rasterizers, where the renderer must trade detail for frame rate."""
    name = ctx.info["GL_RENDERER"].lower()
    return any(s in name for s in ("llvmpipe", "softpipe", "swiftshader", "swrast", "software"))


def release_framebuffer(fbo: moderngl.Framebuffer) -> None:
    """Release a framebuffer (not the bound one: see viz.offscreen) and its attachments."""
    attachments = [*fbo.color_attachments, fbo.depth_attachment]
    fbo.release()
    for attachment in attachments:
        if attachment is not None:
            attachment.release()
