"""GL calls made through ctypes rather than moderngl, for the waits of a frame: a ctypes call lets
other Python threads run while it waits, and moderngl holds the GIL in every call. On a CPU
rasterizer the waits are most of a frame (llvmpipe shades fragments in its own threads and a call
that needs the pixels waits for them); under the GIL they would stall the trainer thread too.

Linux: libOpenGL (glvnd) or libGL dispatch to the context current on this thread, EGL or GLX.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_LIBRARIES = ("libOpenGL.so.0", "libGL.so.1")
_gl: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _gl
    if _gl is None:
        names = [*_LIBRARIES, ctypes.util.find_library("OpenGL"), ctypes.util.find_library("GL")]
        for name in filter(None, names):
            try:
                _gl = ctypes.CDLL(name)
                break
            except OSError:
                continue
        else:
            raise RuntimeError(f"no OpenGL library to call ({', '.join(_LIBRARIES)}): install libopengl0")
    return _gl


def finish() -> None:
    """glFinish: wait until the current context has drawn everything asked of it."""
    _lib().glFinish()
