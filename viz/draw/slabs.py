"""Slabs: the far level of detail (shaders/slab.glsl). One quad per occupied grid layer of each
SLAB chunk, traced per pixel through the group's 3-D grid of cells into the cubes it stands for.

Per group on a grid this mode keeps two 3-D textures: (colour table entry, CELL_* flags) per cell
for colour, and instance + 1 per cell (0: empty) for picking. The host copy of the cells follows
every value or highlight change, but is sent only when the group is next drawn as slabs, so a
group seen up close never pays for it. Per frame, each layer of the plan's SLAB chunks becomes one
quad (`layer_quads`), drawn instanced, a group at a time.
"""
from __future__ import annotations

import moderngl
import numpy as np

from viz import lod
from viz.draw.base import UNIT_CELLS, UNIT_INSTANCES, DrawMode, Pass
from viz.draw.instances import GroupInstances, InstanceUpdate
from viz.draw.uploads import Uploads, write_buffer
from viz.scene import Group
from viz.shaders import set_uniforms

# flags of a grid cell (slab.glsl)
CELL_VOXEL, CELL_HIGHLIGHT, CELL_NAN = np.uint8(1), np.uint8(2), np.uint8(4)
# per quad: the chunk's first cell (xyz), its last cell (xyz), (axis, layer, side of the eye)
QUAD_FORMAT, QUAD_ATTRIBUTES = "3f 3f 3f/i", ("in_lo", "in_hi", "in_slice")


class _GridTextures:
    """One group's grid of cells on the GPU, and the host copy of its colour cells."""

    def __init__(self, ctx: moderngl.Context, grid: lod.Grid, uploads: Uploads):
        self.grid = grid
        size = tuple(int(d) for d in grid.dims)
        n_cells = int(np.prod(grid.dims))
        ids = np.zeros(n_cells, np.uint32)
        ids[grid.cell] = np.arange(1, len(grid.cell) + 1, dtype=np.uint32)
        self.instances = ctx.texture3d(size, 1, ids.tobytes(), dtype="u4")   # R32UI instance + 1
        uploads.add(ids.nbytes)
        self.cells = ctx.texture3d(size, 2, dtype="u1")                      # RG8UI entry, flags
        for tex in (self.instances, self.cells):
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.host = np.zeros((n_cells, 2), np.uint8)
        self.host[grid.cell, 1] = CELL_VOXEL
        self.had_nan = False
        self.dirty = True

    def set_values(self, t: np.ndarray) -> None:
        """(N,) normalized values in instance order: the colour table entry of each voxel's cell."""
        cell = self.grid.cell
        nan = np.isnan(t)
        self.host[cell, 0] = np.rint(np.where(nan, 0.0, t) * 255)
        if nan.any() or self.had_nan:
            flags = self.host[cell, 1] & ~CELL_NAN
            self.host[cell, 1] = flags | np.where(nan, CELL_NAN, np.uint8(0))
            self.had_nan = bool(nan.any())
        self.dirty = True

    def set_flags(self, flags: np.ndarray) -> None:
        """(N,) highlight flags in instance order."""
        cell = self.grid.cell
        kept = self.host[cell, 1] & ~CELL_HIGHLIGHT
        self.host[cell, 1] = kept | np.where(flags > 0, CELL_HIGHLIGHT, np.uint8(0))
        self.dirty = True

    def use(self, uploads: Uploads) -> None:
        """Bind both textures, re-sending the cells first if they changed since."""
        if self.dirty:
            self.cells.write(self.host.tobytes())
            uploads.add(self.host.nbytes)
            self.dirty = False
        self.cells.use(UNIT_CELLS)
        self.instances.use(UNIT_INSTANCES)

    def release(self) -> None:
        self.cells.release()
        self.instances.release()


class Slabs(DrawMode):
    shader = "slab"

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        super().__init__(ctx, uploads)
        self._grids: dict[int, _GridTextures] = {}
        self._quads = ctx.buffer(reserve=36 * 64)
        self._vaos = {pick: ctx.vertex_array(prog, [(self._quads, QUAD_FORMAT, *QUAD_ATTRIBUTES)])
                      for pick, prog in self.programs.items()}
        self.quads = 0     # drawn in the last pass, for RenderStats.slab_quads

    def sync(self, group: Group, instances: GroupInstances, update: InstanceUpdate) -> None:
        if update.layout:
            self.forget(group.uid)
            if instances.chunks.grid is not None:
                self._grids[group.uid] = _GridTextures(self.ctx, instances.chunks.grid, self.uploads)
        grid = self._grids.get(group.uid)
        if grid is None:
            return
        if update.values is not None:
            grid.set_values(update.values)
        if update.flags is not None:
            grid.set_flags(update.flags)

    def forget(self, uid: int) -> None:
        grid = self._grids.pop(uid, None)
        if grid is not None:
            grid.release()

    def draw(self, p: Pass) -> int:
        textures = [self._grids.get(group.uid) for group in p.groups]
        quads, offsets = layer_quads(p.table, p.plan, [t.grid if t else None for t in textures])
        self.quads = len(quads)
        prog, vao = self.frame_program(p), self._vaos[p.pick]
        drawn = np.flatnonzero(np.diff(offsets))
        for g in drawn:
            p.use_group(prog, g)
            textures[g].use(self.uploads)
            grid = textures[g].grid
            set_uniforms(prog, {"u_grid_origin": tuple(grid.origin.tolist()),
                                "u_grid_dims": tuple(int(d) for d in grid.dims)})
            # per-frame plan data, not the scene's: not counted in uploaded_bytes
            write_buffer(self._quads, quads[offsets[g]:offsets[g + 1]])
            vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=int(offsets[g + 1] - offsets[g]))
        return len(drawn)

    def release(self) -> None:
        for uid in list(self._grids):
            self.forget(uid)
        for obj in (*self._vaos.values(), self._quads):
            obj.release()


def layer_quads(table: lod.ChunkTable, plan: lod.Plan,
                    grids: list[lod.Grid | None]) -> tuple[np.ndarray, np.ndarray]:
    """The quads of a pass: (M, 9) float32 in QUAD_FORMAT (cell lo xyz, cell hi xyz, axis, layer, side
    of the eye), one per occupied layer of every SLAB chunk, layers front to back, grouped by group
    (`grids`: each drawn group's, None off a grid); and (G + 1,) offsets of each group's quads."""
    rows = np.flatnonzero(plan.mode == lod.SLAB)
    ngroups = table.n_groups
    if len(rows) == 0:
        return np.zeros((0, 9), np.float32), np.zeros(ngroups + 1, np.int64)
    grp = table.group[rows]
    local = rows - table.first[grp]                          # chunk number inside its group
    lo = np.empty((len(rows), 3), np.int32)
    hi = np.empty((len(rows), 3), np.int32)
    for g in np.unique(grp):                                 # per group, not per voxel
        sel = grp == g
        lo[sel] = grids[g].chunk_lo[local[sel]]
        hi[sel] = grids[g].chunk_hi[local[sel]]
    axis = plan.axis[rows].astype(np.int64)
    side = plan.side[rows]
    a_lo = np.take_along_axis(lo, axis[:, None], 1)[:, 0]
    a_hi = np.take_along_axis(hi, axis[:, None], 1)[:, 0]
    layers = a_hi - a_lo + 1
    rep = np.repeat(np.arange(len(rows)), layers)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(layers) - layers, layers)  # 0.. within the chunk
    layer = np.where(side[rep] > 0, a_hi[rep] - k, a_lo[rep] + k)          # nearest layer first
    # drop layers with no voxel at all (the gaps between sheets)
    keep = np.ones(len(rep), bool)
    g_rep, a_rep = grp[rep], axis[rep]
    for g in np.unique(grp):
        for a in range(3):
            sel = (g_rep == g) & (a_rep == a)
            if sel.any():
                keep[sel] = grids[g].occupied[a][layer[sel]]
    rep, layer = rep[keep], layer[keep]
    quads = np.empty((len(rep), 9), np.float32)
    quads[:, 0:3] = lo[rep]
    quads[:, 3:6] = hi[rep]
    quads[:, 6] = axis[rep]
    quads[:, 7] = layer
    quads[:, 8] = side[rep]
    offsets = np.searchsorted(grp[rep], np.arange(ngroups + 1))
    return quads, offsets
