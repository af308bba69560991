"""Load GLSL programs from shaders/<name>.glsl by name, one compiled program per (context, variant).

A file holds every stage of one program between `#if defined VERTEX_SHADER` / `FRAGMENT_SHADER`
sections; the loader inserts the stage define (and any variant defines such as PICKING) after the
`#version` line. `#include "file.glsl"` pulls in shared code (lighting, colormap lookup).
"""
from __future__ import annotations

import re
from pathlib import Path

import moderngl
import numpy as np

SHADER_DIR = Path(__file__).resolve().parent.parent / "shaders"
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$', re.MULTILINE)
_cache: dict[tuple[int, str, tuple[str, ...]], moderngl.Program] = {}


def source(name: str) -> str:
    """The file's text with its includes expanded (one level is all we use; cycles are an error)."""
    def expand(text: str, seen: tuple[str, ...]) -> str:
        def sub(m: re.Match) -> str:
            inc = m.group(1)
            if inc in seen:
                raise ValueError(f"shader include cycle: {' -> '.join(seen + (inc,))}")
            return expand((SHADER_DIR / inc).read_text(), seen + (inc,))
        return _INCLUDE.sub(sub, text)
    return expand((SHADER_DIR / f"{name}.glsl").read_text(), (f"{name}.glsl",))


def _stage(text: str, defines: tuple[str, ...]) -> str:
    head, sep, body = text.partition("\n")
    if not head.startswith("#version"):
        raise ValueError("a shader file must start with its #version line")
    return head + sep + "".join(f"#define {d}\n" for d in defines) + body


def program(ctx: moderngl.Context, name: str, *defines: str) -> moderngl.Program:
    """Compiled program `name` with extra `defines`, cached per context."""
    key = (id(ctx), name, defines)
    prog = _cache.get(key)
    if prog is None or prog.ctx is not ctx:
        text = source(name)
        stages = {"vertex_shader": _stage(text, ("VERTEX_SHADER",) + defines),
                  "fragment_shader": _stage(text, ("FRAGMENT_SHADER",) + defines)}
        try:
            prog = ctx.program(**stages)
        except moderngl.Error as e:
            raise RuntimeError(f"shader {name}.glsl {list(defines)} failed to build:\n{e}") from None
        _cache[key] = prog
    return prog


def mat_bytes(m: np.ndarray) -> bytes:
    """Row-major numpy matrix -> bytes of the column-major GLSL matrix."""
    return np.ascontiguousarray(np.asarray(m, np.float32).T).tobytes()


def set_uniforms(prog: moderngl.Program, values: dict) -> None:
    """Set the uniforms the program uses (the compiler drops unused ones; that is not an error)."""
    for name, value in values.items():
        member = prog.get(name, None)
        if member is None:
            continue
        if isinstance(value, bytes):
            member.write(value)
        else:
            member.value = value
