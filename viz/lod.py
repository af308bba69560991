"""Level of detail, without GL: split each group into spatial chunks once, then pick per chunk per
frame how it is drawn from its projected voxel size:

    CUBES    lit instanced cubes (near; a budget on CPU rasterizers)
    SLAB     one quad per grid layer, textured with the group's 3-D grid of cells and traced per
             pixel into the cubes it stands for (shaders/slab.glsl): everything else on a grid
    SPRITES  point sprites, for voxels off a grid (graph layouts), or all mid-size ones with
             grid_sprites
    CULLED   outside the view frustum

A frame may be drawn below full detail (`Detail`: fewer pixels, smaller budgets) while the view
moves; viz.adaptive picks the level from frame times.

Everything is vectorized over chunks (hundreds per scene, thousands per million voxels); nothing
here loops over voxels in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

CULLED, CUBES, SPRITES, SLAB = 0, 1, 2, 3
CHUNK_TARGET = 4096       # voxels per chunk: few draw calls, yet fine-grained culling and LOD
MAX_GRID_DIM = 2048       # GL_MAX_3D_TEXTURE_SIZE guaranteed by GL 3.3 is 256; llvmpipe and GPUs give 2048
GRID_SLACK = 8            # a slab grid may hold at most this many cells per voxel (sparse layouts: no slab)


@dataclass
class LodSettings:
    cube_px: float = 6.0          # voxel spacing on screen (pixels) from which voxels are lit cubes
    slab_px: float = 1.5          # below this, chunks that sit on a grid are drawn as slabs
    grid_sprites: bool = False    # True: chunks on a grid between slab_px and cube_px are sprites.
    #   Off by default: slabs trace the very cubes they replace, while sprites (one shade per voxel)
    #   show as patches next to them; sprites stay the middle level for voxels off a grid (graphs).
    max_cubes: int | None = None  # budget: past it the farthest cube chunks become slabs (or sprites)
    max_sprites: int | None = None  # budget: past it the smallest sprite chunks become slabs (if they can)
    enabled: bool = True          # False: every voxel a cube, no culling (the naive baseline)

    @classmethod
    def for_renderer(cls, software: bool) -> "LodSettings":
        """Budgets for a CPU rasterizer (llvmpipe, 2 cores: ~1.5 us per cube, ~0.3 us per sprite).
        Slabs trace the same cubes per pixel, so what exceeds the budgets looks the same, cheaper."""
        if software:
            return cls(max_cubes=6_000, max_sprites=20_000)
        return cls()


@dataclass(frozen=True)
class Detail:
    """How far below full detail one frame is drawn (viz.adaptive moves it to hold a frame time):
    the scene at a fraction of the viewport's pixels, stretched over it, and a share of the cube
    and sprite budgets (cubes also start only at a larger size on screen). FULL_DETAIL draws exactly
    what the LodSettings say."""
    render_scale: float = 1.0   # pixels per axis, of the viewport's
    budget_share: float = 1.0   # of max_cubes and max_sprites; cube_px grows by its inverse

    def settings(self, full: LodSettings) -> LodSettings:
        """`full` as this level draws it (`full` itself at full detail)."""
        if self.budget_share >= 1.0:
            return full
        share = self.budget_share

        def cut(budget):
            return None if budget is None else int(budget * share)
        return replace(full, cube_px=full.cube_px / share, max_cubes=cut(full.max_cubes),
                       max_sprites=cut(full.max_sprites))

    @property
    def full(self) -> bool:
        return self.render_scale >= 1.0 and self.budget_share >= 1.0

    def segments(self, full: int) -> int:
        """Segments of a curve that has `full` at full detail: fewer with the budgets, since on a
        CPU rasterizer a ribbon costs about its triangles, whatever its size on screen."""
        return full if self.budget_share >= 1.0 else max(MIN_SEGMENTS, round(full * self.budget_share))


FULL_DETAIL = Detail()
MIN_SEGMENTS = 6         # a ribbon's S-curve still reads as one with this many
MIN_TEXT_PX = 1.5        # below full detail, text whose capitals would be shorter is not drawn


@dataclass
class Grid:
    """Where each instance's voxel sits in a dense 3-D grid (for slab textures); x varies fastest."""
    origin: np.ndarray    # (3,) float32, local position of cell (0, 0, 0)
    dims: np.ndarray      # (3,) int64, cells per axis
    cell: np.ndarray      # (N,) int64, flat cell index of each instance
    chunk_lo: np.ndarray  # (C, 3) int32, first cell of each chunk
    chunk_hi: np.ndarray  # (C, 3) int32, last cell of each chunk
    occupied: list[np.ndarray]  # per axis, (dims[a],) bool: does any voxel sit in that layer
    thin: np.ndarray      # (3,) fraction of voxels with no voxel next to them along each axis

    @property
    def axis_weight(self) -> np.ndarray:
        """(3,) preference for slicing along each axis. Sheets (a single layer, or layers with gaps
        between them like memory steps) must be sliced across: slices along the sheet would show
        only the sheets' edges. Elsewhere the axis most along the line of sight wins."""
        return np.where(self.dims == 1, 1e3, np.where(self.thin > 0.5, 4.0, 1.0))


@dataclass
class Chunks:
    """One layout cut into spatial chunks, which fixes the GPU instance order: chunk c owns the
    instances start[c] : start[c] + count[c], and instance i shows voxel perm[i]."""
    perm: np.ndarray      # (N,) int64
    start: np.ndarray     # (C,) int64
    count: np.ndarray     # (C,) int64
    lo: np.ndarray        # (C, 3) float32, local bounding box including the voxels' half extent
    hi: np.ndarray        # (C, 3) float32
    grid: Grid | None     # None when the voxels do not sit on an integer grid (graphs) or it is too big

    @property
    def size(self) -> int:
        return len(self.start)

    def instance_of(self, voxels: np.ndarray) -> np.ndarray:
        """The instance that shows each of `voxels` (any shape): the inverse of perm."""
        inverse = np.empty(len(self.perm), np.int64)
        inverse[self.perm] = np.arange(len(self.perm))
        return inverse[voxels]


def _brick_edge(extent: np.ndarray, n: int, target: int) -> int:
    """The smallest brick edge (growing by ~1.25x) whose bricks hold about `target` voxels on average."""
    density = n / float(np.prod(extent))
    edge = 2
    while edge < extent.max() and density * np.prod(np.minimum(edge, extent)) < target:
        edge = int(np.ceil(edge * 1.25))
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
    full = np.zeros(dims[::-1], bool)                   # [z, y, x], like the flat cell index
    full[ijk[:, 2], ijk[:, 1], ijk[:, 0]] = True
    occupied, thin = [], np.zeros(3)
    for a in range(3):
        occ = np.zeros(dims[a], bool)
        occ[ijk[:, a]] = True
        occupied.append(occ)
        here, after = [slice(None)] * 3, [slice(None)] * 3
        here[2 - a], after[2 - a] = slice(0, -1), slice(1, None)
        paired = np.count_nonzero(full[tuple(here)] & full[tuple(after)])   # voxels with a +1 neighbour
        thin[a] = 1.0 - paired / len(ijk)
    return Grid(origin.astype(np.float32), dims, cell,
                np.minimum.reduceat(ijk, start, axis=0).astype(np.int32),
                np.maximum.reduceat(ijk, start, axis=0).astype(np.int32), occupied, thin)


@dataclass
class ChunkTable:
    """Every chunk of every visible group, in world units; rebuilt only when the scene's structure
    (layouts, placements, visibility) changes."""
    group: np.ndarray     # (C,) int64, index into the list of groups it was built from
    lo: np.ndarray        # (C, 3) world
    hi: np.ndarray        # (C, 3) world
    spacing: np.ndarray   # (C,) world distance between neighbouring voxels
    start: np.ndarray     # (C,) first instance of each chunk in its group's buffers
    count: np.ndarray     # (C,) voxels
    slab_ok: np.ndarray   # (C,) bool, the chunk's group has a grid
    axis_weight: np.ndarray  # (C, 3) slab axis preference (Grid.axis_weight)
    first: np.ndarray     # (G + 1,) table row of each group's first chunk (and the end)

    @property
    def n_groups(self) -> int:
        return len(self.first) - 1

    @classmethod
    def build(cls, chunks: list[Chunks], origins: list[np.ndarray], scales: list[float]) -> "ChunkTable":
        sizes = np.array([c.size for c in chunks], np.int64)
        first = np.concatenate([[0], np.cumsum(sizes)])
        if first[-1] == 0:
            z3 = np.zeros((0, 3), np.float32)
            e = np.zeros(0, np.int64)
            return cls(e, z3, z3, np.zeros(0, np.float32), e, e, np.zeros(0, bool), z3, first)
        scale = np.repeat(np.asarray(scales, np.float32), sizes)
        origin = np.repeat(np.asarray(origins, np.float32).reshape(-1, 3), sizes, axis=0)
        lo = np.concatenate([c.lo for c in chunks]) * scale[:, None] + origin
        hi = np.concatenate([c.hi for c in chunks]) * scale[:, None] + origin
        slab_ok = np.repeat(np.array([c.grid is not None for c in chunks]), sizes)
        weight = np.repeat([c.grid.axis_weight if c.grid is not None else np.ones(3) for c in chunks],
                           sizes, axis=0).astype(np.float32)
        return cls(np.repeat(np.arange(len(chunks)), sizes), lo, hi, scale,
                   np.concatenate([c.start for c in chunks]), np.concatenate([c.count for c in chunks]),
                   slab_ok, weight, first)


@dataclass
class Plan:
    """How one frame draws each chunk of a ChunkTable."""
    mode: np.ndarray      # (C,) int8: CULLED, CUBES, SPRITES or SLAB
    px: np.ndarray        # (C,) largest on-screen voxel spacing in the chunk, pixels
    axis: np.ndarray      # (C,) int8, slab axis: the one most along the line of sight (sheets preferred)
    side: np.ndarray      # (C,) float32, +1 when the eye is on the + side of that axis
    depth: np.ndarray     # (C,) smallest clip w over the chunk: draw order, nearest first

    def voxels(self, table: ChunkTable, mode: int) -> int:
        return int(table.count[self.mode == mode].sum())

    def runs(self, table: ChunkTable, mode: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(group, first instance, instance count) of each maximal run of consecutive same-group
        chunks in `mode`: one draw call each, since a group's consecutive chunks own consecutive
        instances. Nearest runs come first, so the depth test rejects the fragments of what they hide."""
        rows = np.flatnonzero(self.mode == mode)
        if len(rows) == 0:
            e = np.zeros(0, np.int64)
            return e, e, e
        new = np.ones(len(rows), bool)
        new[1:] = (np.diff(rows) != 1) | (table.group[rows[1:]] != table.group[rows[:-1]])
        starts = np.flatnonzero(new)
        order = np.argsort(np.minimum.reduceat(self.depth[rows], starts), kind="stable")
        first = table.start[rows[starts]]
        count = np.add.reduceat(table.count[rows], starts)
        return table.group[rows[starts]][order], first[order], count[order]

    def in_view(self, table: ChunkTable) -> np.ndarray:
        """(G,) bool: the groups with at least one chunk that is not culled this frame."""
        seen = np.zeros(table.n_groups, bool)
        seen[table.group[self.mode != CULLED]] = True
        return seen


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
    axis = (np.abs(d) * table.axis_weight).argmax(axis=1).astype(np.int8)
    side = np.where(np.take_along_axis(d, axis[:, None].astype(np.int64), 1)[:, 0] >= 0, 1.0, -1.0)

    if not settings.enabled:
        return Plan(np.full(c, CUBES, np.int8), px, axis, side.astype(np.float32), wmin)

    mode = np.full(c, SPRITES, np.int8)
    mode[px >= settings.cube_px] = CUBES
    slab_below = settings.slab_px if settings.grid_sprites else settings.cube_px
    mode[(px < slab_below) & table.slab_ok] = SLAB
    mode[outside(frustum_planes(vp if cull is None else cull), table.lo, table.hi)] = CULLED

    # budgets (CPU rasterizers): cubes past max_cubes become slabs (perspective-true flat squares,
    # closer to a cube than a screen-aligned sprite) or, off a grid, sprites; sprites past
    # max_sprites become slabs where they can
    if settings.max_cubes is not None:
        _demote(mode, px, table.count, CUBES, np.where(table.slab_ok, SLAB, SPRITES), settings.max_cubes)
    if settings.max_sprites is not None:
        _demote(mode, px, table.count, SPRITES, np.where(table.slab_ok, SLAB, SPRITES), settings.max_sprites)
    return Plan(mode, px, axis, side.astype(np.float32), wmin)


def _demote(mode, px, count, src, dst, budget) -> None:
    """Past `budget` voxels in mode `src`, move the chunks with the smallest px to `dst` (per chunk);
    chunks whose `dst` is `src` cannot move and spend the budget first."""
    rows = np.flatnonzero(mode == src)
    if count[rows].sum() <= budget:
        return
    fixed = dst[rows] == src
    budget -= int(count[rows[fixed]].sum())
    rows = rows[~fixed]
    order = rows[np.argsort(-px[rows], kind="stable")]
    over = np.cumsum(count[order]) - count[order] >= budget   # the chunk that crosses the budget stays
    mode[order[over]] = dst[order[over]]
