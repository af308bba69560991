"""Level of detail, without GL: split each group into spatial chunks once, then pick per chunk per
frame how it is drawn (culled, lit cubes, point sprites, or textured slabs) from its projected size.

Everything is vectorized over chunks (hundreds per scene, thousands per million voxels); nothing
here loops over voxels in Python.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CULLED, CUBES, SPRITES, SLAB = 0, 1, 2, 3
CHUNK_TARGET = 4096       # voxels per chunk: few draw calls, yet fine-grained culling and LOD
MAX_GRID_DIM = 2048       # GL_MAX_3D_TEXTURE_SIZE guaranteed by GL 3.3 is 256; llvmpipe and GPUs give 2048
GRID_SLACK = 8            # a slab grid may hold at most this many cells per voxel (sparse layouts: no slab)


@dataclass
class LodSettings:
    cube_px: float = 6.0          # voxel spacing on screen (pixels) from which voxels are lit cubes
    slab_px: float = 1.5          # below this, chunks that sit on a grid are drawn as slabs
    max_cubes: int | None = None  # budget: past it the farthest cube chunks become sprites
    max_sprites: int | None = None  # budget: past it the smallest sprite chunks become slabs (if they can)
    slab_px_max: float = 4.0      # ... but never slabs whose voxels are bigger than this
    enabled: bool = True          # False: every voxel a cube, no culling (the naive baseline)

    @classmethod
    def for_renderer(cls, software: bool) -> "LodSettings":
        """Budgets for a CPU rasterizer (llvmpipe on 2 cores draws ~600k cubes/s, ~3M sprites/s)."""
        if software:
            return cls(max_cubes=12_000, max_sprites=60_000)
        return cls()


@dataclass
class Grid:
    """Where each slot's voxel sits in a dense 3-D grid (for slab textures); x varies fastest."""
    origin: np.ndarray    # (3,) float32, local position of cell (0, 0, 0)
    dims: np.ndarray      # (3,) int64, cells per axis
    cell: np.ndarray      # (N,) int64, flat cell index of each slot
    chunk_lo: np.ndarray  # (C, 3) int32, first cell of each chunk
    chunk_hi: np.ndarray  # (C, 3) int32, last cell of each chunk


@dataclass
class Chunks:
    """One layout cut into spatial chunks. Slots are the GPU instance order: chunk c owns the slots
    start[c] : start[c] + count[c], and slot s shows voxel perm[s]."""
    perm: np.ndarray      # (N,) int64
    start: np.ndarray     # (C,) int64
    count: np.ndarray     # (C,) int64
    lo: np.ndarray        # (C, 3) float32, local bounding box including the voxels' half extent
    hi: np.ndarray        # (C, 3) float32
    grid: Grid | None     # None when the voxels do not sit on an integer grid (graphs) or it is too big

    @property
    def size(self) -> int:
        return len(self.start)


def _brick_edge(extent: np.ndarray, n: int, target: int) -> int:
    """The smallest power-of-two brick edge whose bricks hold about `target` voxels on average."""
    density = n / float(np.prod(extent))
    edge = 2
    while edge < extent.max() and density * np.prod(np.minimum(edge, extent)) < target:
        edge *= 2
    return edge


def chunk_layout(positions: np.ndarray, target: int = CHUNK_TARGET) -> Chunks:
    """Cut voxels at `positions` (N, 3) into bricks of about `target` voxels, in brick order."""
    n = len(positions)
    if n == 0:
        z3 = np.zeros((0, 3), np.float32)
        return Chunks(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), z3, z3, None)
    pmin = positions.min(axis=0)
    extent = positions.max(axis=0) - pmin + 1.0
    edge = _brick_edge(extent, n, target)
    brick = np.floor((positions - pmin) / edge).astype(np.int64)               # (N, 3)
    nb = brick.max(axis=0) + 1
    key = (brick[:, 0] * nb[1] + brick[:, 1]) * nb[2] + brick[:, 2]
    perm = np.argsort(key, kind="stable")                                       # keeps source order in a brick
    _, start, count = np.unique(key[perm], return_index=True, return_counts=True)
    sorted_pos = positions[perm]
    lo = np.minimum.reduceat(sorted_pos, start, axis=0) - 0.5
    hi = np.maximum.reduceat(sorted_pos, start, axis=0) + 0.5
    return Chunks(perm, start.astype(np.int64), count.astype(np.int64),
                  lo.astype(np.float32), hi.astype(np.float32), _grid(sorted_pos, start))


def _grid(sorted_pos: np.ndarray, start: np.ndarray) -> Grid | None:
    rounded = np.round(sorted_pos)
    if np.abs(sorted_pos - rounded).max() > 1e-3:
        return None
    origin = rounded.min(axis=0)
    ijk = (rounded - origin).astype(np.int64)                                   # (N, 3)
    dims = ijk.max(axis=0) + 1
    if dims.max() > MAX_GRID_DIM or np.prod(dims) > GRID_SLACK * len(ijk) + 4096:
        return None
    cell = ijk[:, 0] + dims[0] * (ijk[:, 1] + dims[1] * ijk[:, 2])
    return Grid(origin.astype(np.float32), dims, cell,
                np.minimum.reduceat(ijk, start, axis=0).astype(np.int32),
                np.maximum.reduceat(ijk, start, axis=0).astype(np.int32))


@dataclass
class ChunkTable:
    """Every chunk of every visible group, in world units; rebuilt only when the scene's structure
    (layouts, placements, visibility) changes."""
    group: np.ndarray     # (C,) int64, index into the list of groups it was built from
    lo: np.ndarray        # (C, 3) world
    hi: np.ndarray        # (C, 3) world
    spacing: np.ndarray   # (C,) world distance between neighbouring voxels
    start: np.ndarray     # (C,) first slot of each chunk in its group's buffers
    count: np.ndarray     # (C,) voxels
    slab_ok: np.ndarray   # (C,) bool, the chunk's group has a grid
    first: np.ndarray     # (G + 1,) table row of each group's first chunk (and the end)

    @classmethod
    def build(cls, chunks: list[Chunks], origins: list[np.ndarray], scales: list[float]) -> "ChunkTable":
        sizes = np.array([c.size for c in chunks], np.int64)
        first = np.concatenate([[0], np.cumsum(sizes)])
        if first[-1] == 0:
            z3 = np.zeros((0, 3), np.float32)
            e = np.zeros(0, np.int64)
            return cls(e, z3, z3, np.zeros(0, np.float32), e, e, np.zeros(0, bool), first)
        scale = np.repeat(np.asarray(scales, np.float32), sizes)
        origin = np.repeat(np.asarray(origins, np.float32).reshape(-1, 3), sizes, axis=0)
        lo = np.concatenate([c.lo for c in chunks]) * scale[:, None] + origin
        hi = np.concatenate([c.hi for c in chunks]) * scale[:, None] + origin
        slab_ok = np.repeat(np.array([c.grid is not None for c in chunks]), sizes)
        return cls(np.repeat(np.arange(len(chunks)), sizes), lo, hi, scale,
                   np.concatenate([c.start for c in chunks]), np.concatenate([c.count for c in chunks]),
                   slab_ok, first)


@dataclass
class Plan:
    """How one frame draws each chunk of a ChunkTable."""
    mode: np.ndarray      # (C,) int8: CULLED, CUBES, SPRITES or SLAB
    px: np.ndarray        # (C,) largest on-screen voxel spacing in the chunk, pixels
    axis: np.ndarray      # (C,) int8, slab axis: the one most along the line of sight
    side: np.ndarray      # (C,) float32, +1 when the eye is on the + side of that axis

    def voxels(self, table: ChunkTable, mode: int) -> int:
        return int(table.count[self.mode == mode].sum())

    def runs(self, table: ChunkTable, mode: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(group, first chunk, chunk count) of each maximal run of consecutive same-group chunks in
        `mode`: one draw call each, since a group's consecutive chunks own consecutive slots."""
        sel = self.mode == mode
        if not sel.any():
            e = np.zeros(0, np.int64)
            return e, e, e
        rows = np.flatnonzero(sel)
        new = np.ones(len(rows), bool)
        new[1:] = (np.diff(rows) != 1) | (table.group[rows[1:]] != table.group[rows[:-1]])
        starts = np.flatnonzero(new)
        lengths = np.diff(np.append(starts, len(rows)))
        return table.group[rows[starts]], rows[starts], lengths


def frustum_planes(m: np.ndarray) -> np.ndarray:
    """(6, 4) planes (a, b, c, d), inside where a x + b y + c z + d >= 0, of clip matrix m (row-major)."""
    m = np.asarray(m, np.float64)
    return np.stack([m[3] + m[0], m[3] - m[0], m[3] + m[1], m[3] - m[1], m[3] + m[2], m[3] - m[2]])


def outside(planes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(C,) True for boxes wholly outside some plane (conservative: near-corner boxes are kept)."""
    n = planes[:, :3]                                            # (6, 3)
    # the box corner farthest along each plane's normal
    far = np.where(n[None] >= 0, hi[:, None, :], lo[:, None, :])  # (C, 6, 3)
    return ((far * n[None]).sum(-1) + planes[None, :, 3] < 0).any(axis=1)


def eye_position(view: np.ndarray) -> np.ndarray:
    """Camera position in world units from a row-major world -> view matrix."""
    return np.linalg.inv(np.asarray(view, np.float64))[:3, 3]


def plan(table: ChunkTable, view: np.ndarray, proj: np.ndarray, viewport: tuple[int, int],
         settings: LodSettings, cull: np.ndarray | None = None) -> Plan:
    """Choose a mode for every chunk. `cull`, when given, is the clip matrix used for culling instead
    of proj @ view (picking culls to the few pixels around the cursor but keeps the frame's LOD)."""
    c = len(table.count)
    vp = np.asarray(proj, np.float64) @ np.asarray(view, np.float64)
    # smallest clip w over each box: w is linear, so its minimum is at a corner, axis by axis
    r = vp[3]
    wmin = r[3] + np.minimum(table.lo * r[:3], table.hi * r[:3]).sum(axis=1)
    focal_px = proj[1][1] * viewport[1] / 2.0
    px = table.spacing * focal_px / np.maximum(wmin, 1e-6)

    eye = eye_position(view)
    d = eye - (table.lo + table.hi) / 2.0
    axis = np.abs(d).argmax(axis=1).astype(np.int8)
    side = np.where(np.take_along_axis(d, axis[:, None].astype(np.int64), 1)[:, 0] >= 0, 1.0, -1.0)

    if not settings.enabled:
        return Plan(np.full(c, CUBES, np.int8), px, axis, side.astype(np.float32))

    mode = np.full(c, SPRITES, np.int8)
    mode[px >= settings.cube_px] = CUBES
    mode[(px < settings.slab_px) & table.slab_ok] = SLAB
    mode[outside(frustum_planes(vp if cull is None else cull), table.lo, table.hi)] = CULLED

    if settings.max_cubes is not None:
        _demote(mode, px, table.count, CUBES, SPRITES, settings.max_cubes)
    if settings.max_sprites is not None:
        can = table.slab_ok & (px < settings.slab_px_max)
        _demote(mode, px, table.count, SPRITES, SLAB, settings.max_sprites, allowed=can)
    return Plan(mode, px, axis, side.astype(np.float32))


def _demote(mode, px, count, src, dst, budget, allowed=None) -> None:
    """Past `budget` voxels in mode `src`, move the chunks with the smallest px to `dst`."""
    rows = np.flatnonzero(mode == src)
    if count[rows].sum() <= budget:
        return
    if allowed is not None:
        # chunks that cannot move are spent first; the movable ones share what is left, largest first
        fixed = rows[~allowed[rows]]
        budget -= int(count[fixed].sum())
        rows = rows[allowed[rows]]
    order = rows[np.argsort(-px[rows], kind="stable")]
    over = np.cumsum(count[order]) > budget
    mode[order[over]] = dst


def slab_instances(table: ChunkTable, plan_: Plan, grids: list[Grid | None]) -> tuple[np.ndarray, np.ndarray]:
    """Per-instance data (M, 9) float32 (cell lo xyz, cell hi xyz, axis, layer, side) for every layer
    of every SLAB chunk, layers front to back, grouped by group; and (G + 1,) instance offsets."""
    rows = np.flatnonzero(plan_.mode == SLAB)
    ngroups = len(table.first) - 1
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
    axis = plan_.axis[rows].astype(np.int64)
    side = plan_.side[rows]
    a_lo = np.take_along_axis(lo, axis[:, None], 1)[:, 0]
    a_hi = np.take_along_axis(hi, axis[:, None], 1)[:, 0]
    layers = a_hi - a_lo + 1
    rep = np.repeat(np.arange(len(rows)), layers)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(layers) - layers, layers)  # 0.. within the chunk
    layer = np.where(side[rep] > 0, a_hi[rep] - k, a_lo[rep] + k)          # nearest layer first
    inst = np.empty((len(rep), 9), np.float32)
    inst[:, 0:3] = lo[rep]
    inst[:, 3:6] = hi[rep]
    inst[:, 6] = axis[rep]
    inst[:, 7] = layer
    inst[:, 8] = side[rep]
    offsets = np.searchsorted(grp[rep], np.arange(ngroups + 1))
    return inst, offsets
