"""The GPU side of one scene group: instance buffers, slab textures and vertex arrays.

Static data (positions, in chunk order) is uploaded when the layout changes; values and highlight
flags are written in place when their version moves; a buffer only grows (orphan), never shrinks.
"""
from __future__ import annotations

import moderngl
import numpy as np

from viz import lod
from viz.scene import Group

# locations fixed by `layout(location = N)` in shaders/*.glsl
LOC_POS, LOC_VALUE, LOC_FLAG = 2, 3, 4
# flags of a slab grid cell (slab.glsl)
CELL_VOXEL, CELL_HIGHLIGHT, CELL_NAN = np.uint8(1), np.uint8(2), np.uint8(4)

# the 3 visible faces of a cube, 2 triangles each; voxel.glsl makes corners from these ids
CUBE_INDICES = np.array([[4 * f + 0, 4 * f + 1, 4 * f + 3, 4 * f + 0, 4 * f + 3, 4 * f + 2]
                         for f in range(3)], np.int32).reshape(-1)


class GpuGroup:
    def __init__(self, ctx: moderngl.Context, programs: dict[str, moderngl.Program], cube_ibo: moderngl.Buffer):
        self.ctx = ctx
        self.n = 0
        self._sent = 0                           # bytes since take_sent(), for the per-frame stats
        self.chunks: lod.Chunks | None = None
        self.layout_version = self.values_version = self.highlight_version = -1
        self.pos = ctx.buffer(reserve=12)
        self.val = ctx.buffer(reserve=4)
        self.flag = ctx.buffer(reserve=4)
        self.edges: moderngl.Buffer | None = None
        self.n_edges = 0
        self.cells: moderngl.Texture3D | None = None   # RG8UI (colour index, CELL_* flags) per grid cell
        self.slots: moderngl.Texture3D | None = None   # R32UI slot + 1 per grid cell, 0 = empty
        self._cells_host: np.ndarray | None = None
        self._cells_dirty = False
        self._had_nan = False
        self.vaos: dict[str, moderngl.VertexArray] = {}
        self._programs = programs
        self._cube_ibo = cube_ibo

    # -- upload ------------------------------------------------------------------------------
    def sync(self, group: Group) -> int:
        """Bring the GPU copy up to date with `group`; returns the bytes sent."""
        sent = 0
        if self.layout_version != group.layout_version:
            sent += self._set_layout(group)
            self.layout_version = group.layout_version
            self.values_version = self.highlight_version = -1
        if self.values_version != group.values_version:
            t = group.normalized()[self.chunks.perm]
            sent += write_buffer(self.val, t)
            if self._cells_host is not None:
                cell = self.chunks.grid.cell
                nan = np.isnan(t)
                self._cells_host[cell, 0] = np.rint(np.where(nan, 0.0, t) * 255)   # the colour table entry
                if nan.any() or self._had_nan:
                    flags = self._cells_host[cell, 1] & ~CELL_NAN
                    self._cells_host[cell, 1] = flags | np.where(nan, CELL_NAN, np.uint8(0))
                    self._had_nan = bool(nan.any())
                self._cells_dirty = True
            self.values_version = group.values_version
        if self.highlight_version != group.highlight_version:
            mask = group.highlight
            f = np.zeros(self.n, np.float32) if mask is None else mask[self.chunks.perm].astype(np.float32)
            sent += write_buffer(self.flag, f)
            if self._cells_host is not None:
                flags = self._cells_host[self.chunks.grid.cell, 1] & ~CELL_HIGHLIGHT
                self._cells_host[self.chunks.grid.cell, 1] = flags | np.where(f > 0, CELL_HIGHLIGHT, np.uint8(0))
                self._cells_dirty = True
            self.highlight_version = group.highlight_version
        self._sent += sent
        return sent

    def _set_layout(self, group: Group) -> int:
        layout = group.layout
        self.n = layout.count
        self.chunks = lod.chunk_layout(layout.positions)
        perm = self.chunks.perm
        slot_of = np.empty(self.n, np.int64)
        slot_of[perm] = np.arange(self.n)
        sent = write_buffer(self.pos, layout.positions[perm])
        self.n_edges = 0 if layout.edges is None else len(layout.edges)
        if self.n_edges:
            data = slot_of[layout.edges].astype(np.int32)
            if self.edges is None:
                self.edges = self.ctx.buffer(data.tobytes())
            else:
                write_buffer(self.edges, data)
            self.vaos.pop("edges", None)   # its index buffer may be new
            sent += data.nbytes
        self._set_grid(self.chunks.grid)
        return sent

    def _set_grid(self, grid: lod.Grid | None) -> None:
        for tex in (self.cells, self.slots):
            if tex is not None:
                tex.release()
        self.cells = self.slots = self._cells_host = None
        if grid is None:
            return
        size = tuple(int(d) for d in grid.dims)
        cells = int(np.prod(grid.dims))
        slots = np.zeros(cells, np.uint32)
        slots[grid.cell] = np.arange(1, len(grid.cell) + 1, dtype=np.uint32)
        self.slots = self.ctx.texture3d(size, 1, slots.tobytes(), dtype="u4")
        self._sent += slots.nbytes
        self.cells = self.ctx.texture3d(size, 2, dtype="u1")
        for tex in (self.slots, self.cells):
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._cells_host = np.zeros((cells, 2), np.uint8)
        self._cells_host[grid.cell, 1] = CELL_VOXEL
        self._had_nan = False
        self._cells_dirty = True

    def slab_textures(self) -> tuple[moderngl.Texture3D, moderngl.Texture3D]:
        """The grid textures, re-sent first if values changed since (slabs are drawn only when far,
        so a group seen up close never pays for them)."""
        if self._cells_dirty:
            self.cells.write(self._cells_host.tobytes())
            self._sent += self._cells_host.nbytes
            self._cells_dirty = False
        return self.cells, self.slots

    def take_sent(self) -> int:
        """Bytes sent to the GPU since the last call."""
        sent, self._sent = self._sent, 0
        return sent

    # -- vertex arrays -----------------------------------------------------------------------
    def vao(self, kind: str) -> moderngl.VertexArray:
        """'cubes' / 'cubes_pick' (instances bound per draw by bind_instances), 'sprites' /
        'sprites_pick' (one vertex per voxel) or 'edges'."""
        vao = self.vaos.get(kind)
        if vao is None:
            prog = self._programs[kind]
            if kind.startswith("cubes"):
                vao = self.ctx.vertex_array(prog, [], self._cube_ibo)
            else:
                # only what the program reads: binding an attribute the compiler dropped is a GL error
                content = [(buf, fmt, name) for buf, fmt, name in
                           ((self.pos, "3f", "in_pos"), (self.val, "f", "in_value"), (self.flag, "f", "in_flag"))
                           if name in prog]
                vao = self.ctx.vertex_array(prog, content, self.edges if kind == "edges" else None)
            self.vaos[kind] = vao
        return vao

    def bind_instances(self, vao: moderngl.VertexArray, first: int) -> None:
        """Point the per-instance attributes at slot `first` (GL 3.3 has no base instance)."""
        vao.bind(LOC_POS, "f", self.pos, "3f", offset=12 * first, divisor=1)
        vao.bind(LOC_VALUE, "f", self.val, "f", offset=4 * first, divisor=1)
        vao.bind(LOC_FLAG, "f", self.flag, "f", offset=4 * first, divisor=1)

    def release(self) -> None:
        for obj in [*self.vaos.values(), self.pos, self.val, self.flag, self.edges, self.cells, self.slots]:
            if obj is not None:
                obj.release()
        self.vaos.clear()


def write_buffer(buffer: moderngl.Buffer, data: np.ndarray) -> int:
    """Replace the buffer's contents with `data`. Orphaning first gives the driver fresh storage, so
    the write need not wait for frames still drawing from the old one (and the buffer can grow)."""
    data = np.ascontiguousarray(data)
    if data.nbytes:
        buffer.orphan(max(data.nbytes, buffer.size))
        buffer.write(data, offset=0)
    return data.nbytes
