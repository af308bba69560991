"""Draw a Scene with moderngl into the current framebuffer: lit cubes near, textured slabs traced
into the same cubes for everything else on a grid, point sprites for voxels off a grid, culled
chunks not at all (viz.lod chooses per chunk per frame). Edges of graph layouts are lines; the
hovered and selected voxels get wireframe boxes.

Per frame the Python work is per chunk run, never per voxel, so the same code drives a million
voxels on a GPU and a 200k-value trace on a CPU rasterizer.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import moderngl
import numpy as np

from viz import colormap, gl_context, lod
from viz.gpu_groups import CUBE_INDICES, GpuGroup, write_buffer
from viz.scene import Group, Scene
from viz.shaders import mat_bytes, program, set_uniforms
from viz.voxels import COLORMAPS

FILL = 0.84                 # cube edge / voxel spacing: the black gaps keep neighbours apart
BOX_PAD = 1.12              # hover / selection boxes sit just outside the cube
SELECTION_COLOUR = (1.0, 1.0, 1.0)
HOVER_COLOUR = (0.55, 0.55, 0.55)
UNIT_LUT, UNIT_CELLS, UNIT_SLOTS = 0, 1, 2


@dataclass
class Light:
    direction: tuple[float, float, float] = (0.35, 0.55, 1.0)  # toward the light, view space
    ambient: float = 0.3     # ambient + diffuse = 1: a face lit head-on shows the exact colour
    diffuse: float = 0.7


@dataclass
class RenderStats:
    """What the last frame drew, for the perf panel."""
    cubes: int = 0           # voxels drawn as lit cubes
    sprites: int = 0         # voxels drawn as point sprites
    slab_voxels: int = 0     # voxels shown by slab texels
    slab_quads: int = 0
    groups_drawn: int = 0
    groups_culled: int = 0   # visible groups wholly outside the view
    chunks: int = 0
    chunks_culled: int = 0
    draw_calls: int = 0
    uploaded_bytes: int = 0  # sent to the GPU for this frame (buffers and slab textures)
    cpu_ms: float = 0.0      # time in render() (the GPU may still be working)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Frame:
    """Matrices of one frame: the LOD always uses the screen's, the vertices may use a pick window's."""
    view: np.ndarray
    proj: np.ndarray
    size: tuple[int, int]
    vp: np.ndarray = field(init=False)

    def __post_init__(self):
        self.view = np.asarray(self.view, np.float64)
        self.proj = np.asarray(self.proj, np.float64)
        self.vp = self.proj @ self.view


class Renderer:
    def __init__(self, ctx: moderngl.Context | None = None, lod_settings: lod.LodSettings | None = None):
        self.ctx = ctx or gl_context.get()
        self.lod = lod_settings or lod.LodSettings.for_renderer(gl_context.is_software(self.ctx))
        self.light = Light()
        self.stats = RenderStats()
        self.fill = FILL
        p = lambda name, *d: program(self.ctx, name, *d)  # noqa: E731
        self.programs = {
            "cubes": p("voxel"), "cubes_pick": p("voxel", "PICKING"),
            "sprites": p("sprite"), "sprites_pick": p("sprite", "PICKING"),
            "slab": p("slab"), "slab_pick": p("slab", "PICKING"),
            "edges": p("edges"), "box": p("box"),
        }
        for prog in self.programs.values():
            for name, unit in (("u_lut", UNIT_LUT), ("u_cells", UNIT_CELLS), ("u_slots", UNIT_SLOTS)):
                if name in prog:
                    prog[name] = unit
        self._cube_ibo = self.ctx.buffer(CUBE_INDICES.tobytes())
        table = np.stack([colormap.lut(name) for name in COLORMAPS])          # (rows, 256, 4)
        self._lut = self.ctx.texture((256, len(COLORMAPS)), 4, table.astype("f4").tobytes(), dtype="f4")
        self._lut.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._slab_buf = self.ctx.buffer(reserve=36 * 64)
        self._slab_vaos = {kind: self.ctx.vertex_array(self.programs[kind], [])
                           for kind in ("slab", "slab_pick")}
        self._box_vao = self.ctx.vertex_array(self.programs["box"], [])
        self._gpu: dict[int, GpuGroup] = {}
        self._drawn: list[Group] = []          # visible groups, in ChunkTable order
        self._table: lod.ChunkTable | None = None
        self._table_key = None
        self._slab_quads = 0

    # -- keeping the GPU in step with the scene ---------------------------------------------
    def sync(self, scene: Scene) -> int:
        """Upload what changed since the last sync (per group versions); returns bytes sent."""
        sent = 0
        live = set()
        for group in scene:
            gpu = self._gpu.get(group.uid)
            if gpu is None:
                gpu = self._gpu[group.uid] = GpuGroup(self.ctx, self.programs, self._cube_ibo)
            sent += gpu.sync(group)
            live.add(group.uid)
        for uid in [u for u in self._gpu if u not in live]:
            self._gpu.pop(uid).release()
        key = tuple((g.uid, g.layout_version, g.visible, tuple(np.asarray(g.placement.origin).tolist()),
                     float(g.placement.scale)) for g in scene if g.placement is not None)
        if key != self._table_key:
            self._drawn = [g for g in scene if g.visible and g.placement is not None]
            self._table = lod.ChunkTable.build(
                [self._gpu[g.uid].chunks for g in self._drawn],
                [np.asarray(g.placement.origin, np.float32) for g in self._drawn],
                [float(g.placement.scale) for g in self._drawn])
            self._table_key = key
        return sent

    # -- drawing -----------------------------------------------------------------------------
    def render(self, scene: Scene, size: tuple[int, int], view=None, proj=None, clear: bool = True,
               viewport: tuple[int, int, int, int] | None = None) -> None:
        """Draw `scene` into the framebuffer bound now, whose size is `size`, over `viewport`
        (x, y, w, h in pixels from the top-left; default the whole framebuffer), e.g. the area
        that panels leave free. `clear` blacks out the whole framebuffer first. The camera gives
        the matrices unless `view` / `proj` (row-major, clip = P @ V @ p) are passed."""
        t0 = time.perf_counter()
        fw, fh = int(size[0]), int(size[1])
        x, y, w, h = (0, 0, fw, fh) if viewport is None else (int(v) for v in viewport)
        if w <= 0 or h <= 0 or fw <= 0 or fh <= 0:
            return
        self.sync(scene)
        frame = self._frame(scene, (w, h), view, proj)
        plan = lod.plan(self._table, frame.view, frame.proj, frame.size, self.lod)
        if clear:
            self.ctx.viewport = (0, 0, fw, fh)
            self.ctx.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self.ctx.viewport = (x, fh - y - h, w, h)   # GL counts rows from the bottom
        calls = self._draw(frame, frame.vp, plan, pick=False)
        calls += self._draw_boxes(scene, frame.vp)
        sent = sum(gpu.take_sent() for gpu in self._gpu.values())
        self.stats = self._stats(plan, calls, sent, time.perf_counter() - t0)

    def draw_ids(self, scene: Scene, size: tuple[int, int], window: np.ndarray, view=None, proj=None) -> None:
        """Draw (group index + 1, slot + 1) into the bound integer framebuffer, as the screen shows
        the scene, through `window` @ P @ V (a zoom on the pixels around the cursor; see
        viz.picking). Chunks outside that window are culled; the level of detail is the screen's."""
        self.sync(scene)
        frame = self._frame(scene, size, view, proj)
        clip = np.asarray(window, np.float64) @ frame.vp
        plan = lod.plan(self._table, frame.view, frame.proj, frame.size, self.lod, cull=clip)
        self._draw(frame, clip, plan, pick=True)

    def resolve(self, group_index: int, slot: int) -> tuple[Group, int]:
        """(group, voxel) for what draw_ids wrote: group index and slot, both without the + 1."""
        group = self._drawn[group_index]
        return group, int(self._gpu[group.uid].chunks.perm[slot])

    def _frame(self, scene: Scene, size, view, proj) -> _Frame:
        w, h = size
        view = scene.camera.view_matrix() if view is None else view
        proj = scene.camera.projection_matrix(w / h) if proj is None else proj
        return _Frame(view, proj, (w, h))

    def _draw(self, frame: _Frame, clip: np.ndarray, plan: lod.Plan, pick: bool) -> int:
        ctx, table = self.ctx, self._table
        suffix = "_pick" if pick else ""
        eye = lod.eye_position(frame.view)
        frame_uniforms = dict(
            u_vp=mat_bytes(clip), u_eye=tuple(eye), u_focal_px=float(frame.proj[1, 1] * frame.size[1] / 2.0),
            u_fill=self.fill, **self.light_uniforms(frame.view))
        for kind in ("cubes", "sprites", "slab", "edges"):
            set_uniforms(self.programs[kind + ("" if kind == "edges" else suffix)], frame_uniforms)
        self._lut.use(UNIT_LUT)
        ctx.enable_only(moderngl.DEPTH_TEST | moderngl.PROGRAM_POINT_SIZE)  # cubes draw front faces only
        calls = 0
        counts = np.concatenate([[0], np.cumsum(table.count)])

        prog = self.programs["cubes" + suffix]
        for g, c0, nc in zip(*plan.runs(table, lod.CUBES)):
            gpu = self._group_uniforms(prog, g)
            first = int(table.start[c0])
            vao = gpu.vao("cubes" + suffix)
            gpu.bind_instances(vao, first)
            set_uniforms(prog, {"u_base": first})
            vao.render(moderngl.TRIANGLES, vertices=len(CUBE_INDICES), instances=int(counts[c0 + nc] - counts[c0]))
            calls += 1

        prog = self.programs["sprites" + suffix]
        for g, c0, nc in zip(*plan.runs(table, lod.SPRITES)):
            gpu = self._group_uniforms(prog, g)
            gpu.vao("sprites" + suffix).render(moderngl.POINTS, vertices=int(counts[c0 + nc] - counts[c0]),
                                               first=int(table.start[c0]))
            calls += 1

        calls += self._draw_slabs(table, plan, suffix)

        if not pick:
            prog = self.programs["edges"]
            drawn = np.zeros(len(self._drawn), bool)
            drawn[table.group[plan.mode != lod.CULLED]] = True
            for g in np.flatnonzero(drawn):
                gpu = self._gpu[self._drawn[g].uid]
                if gpu.n_edges:
                    self._group_uniforms(prog, g)
                    gpu.vao("edges").render(moderngl.LINES)
                    calls += 1
        return calls

    def _draw_slabs(self, table: lod.ChunkTable, plan: lod.Plan, suffix: str) -> int:
        inst, offsets = lod.slab_instances(
            table, plan, [self._gpu[g.uid].chunks.grid for g in self._drawn])
        self._slab_quads = len(inst)
        if not len(inst):
            return 0
        write_buffer(self._slab_buf, inst)
        prog, vao = self.programs["slab" + suffix], self._slab_vaos["slab" + suffix]
        calls = 0
        for g in np.flatnonzero(np.diff(offsets)):
            gpu = self._group_uniforms(prog, g)
            cells, slots = gpu.slab_textures()
            cells.use(UNIT_CELLS)
            slots.use(UNIT_SLOTS)
            grid = gpu.chunks.grid
            set_uniforms(prog, {"u_grid_origin": tuple(grid.origin.tolist()),
                        "u_grid_dims": tuple(int(d) for d in grid.dims)})
            base = inst.strides[0] * int(offsets[g])
            for loc in range(3):   # in_lo, in_hi, in_slice: 3 floats each
                vao.bind(loc, "f", self._slab_buf, "3f", offset=base + 12 * loc, stride=inst.strides[0], divisor=1)
            vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=int(offsets[g + 1] - offsets[g]))
            calls += 1
        return calls

    def light_uniforms(self, view: np.ndarray) -> dict:
        """The light for the shaders: the view-space headlight turned into world axes."""
        d = np.asarray(self.light.direction, np.float64)
        d = np.asarray(view, np.float64)[:3, :3].T @ (d / np.linalg.norm(d))
        return {"u_light_world": tuple(d.tolist()), "u_ambient": float(self.light.ambient),
                "u_diffuse": float(self.light.diffuse)}

    def _group_uniforms(self, prog: moderngl.Program, g: int) -> GpuGroup:
        group = self._drawn[g]
        set_uniforms(prog, {"u_origin": tuple(np.asarray(group.placement.origin, float).tolist()),
                    "u_scale": float(group.placement.scale),
                    "u_lut_row": COLORMAPS.index(group.layout.colormap),
                    "u_group": int(g)})
        return self._gpu[group.uid]

    def _draw_boxes(self, scene: Scene, vp: np.ndarray) -> int:
        """Wireframe boxes around the hovered and selected voxels, drawn over everything."""
        marks = [(scene.hover, HOVER_COLOUR), (scene.selection, SELECTION_COLOUR)]
        marks = [(m, c) for m, c in marks if m is not None and m[0] in scene and scene[m[0]].visible]
        if not marks:
            return 0
        prog = self.programs["box"]
        self.ctx.disable(moderngl.DEPTH_TEST)
        for (name, voxel), colour in marks:
            centre, half = scene.voxel_box(name, voxel)
            set_uniforms(prog, {"u_vp": mat_bytes(vp), "u_center": tuple(centre.tolist()),
                        "u_half": tuple((half * BOX_PAD).tolist()), "u_colour": colour})
            self._box_vao.render(moderngl.LINES, vertices=24)
        self.ctx.enable(moderngl.DEPTH_TEST)
        return len(marks)

    def _stats(self, plan: lod.Plan, calls: int, sent: int, seconds: float) -> RenderStats:
        table = self._table
        n = len(self._drawn)
        culled = np.ones(n, bool)
        culled[table.group[plan.mode != lod.CULLED]] = False
        has_chunks = np.diff(table.first) > 0
        return RenderStats(
            cubes=plan.voxels(table, lod.CUBES), sprites=plan.voxels(table, lod.SPRITES),
            slab_voxels=plan.voxels(table, lod.SLAB),
            slab_quads=self._slab_quads,
            groups_drawn=int((~culled & has_chunks).sum()), groups_culled=int((culled & has_chunks).sum()),
            chunks=len(table.count), chunks_culled=int((plan.mode == lod.CULLED).sum()),
            draw_calls=calls, uploaded_bytes=sent, cpu_ms=1000.0 * seconds)

    # -- labels ------------------------------------------------------------------------------
    def project_labels(self, scene: Scene, size: tuple[int, int], view=None, proj=None,
                       viewport: tuple[int, int, int, int] | None = None) -> list[tuple[str, float, float]]:
        """(label, x, y) in pixels from the top-left of a `size` framebuffer for each visible group
        whose label anchor is in front of the camera and inside the view (`viewport` as in
        render); the app draws the text (imgui)."""
        x0, y0, w, h = (0, 0, *size) if viewport is None else viewport
        if w <= 0 or h <= 0:
            return []
        groups = [g for g in scene if g.visible and g.placement is not None]
        if not groups:
            return []
        frame = self._frame(scene, (w, h), view, proj)
        anchors = np.array([np.asarray(g.placement.label_anchor, np.float64) for g in groups])
        clip = np.c_[anchors, np.ones(len(groups))] @ frame.vp.T
        out = []
        for g, (x, y, _, cw) in zip(groups, clip):
            if cw <= 1e-6 or abs(x) > cw or abs(y) > cw:
                continue
            out.append((g.layout.label, x0 + (x / cw + 1.0) * 0.5 * w, y0 + (1.0 - y / cw) * 0.5 * h))
        return out

    def release(self) -> None:
        for gpu in self._gpu.values():
            gpu.release()
        self._gpu.clear()
        for obj in [self._cube_ibo, self._lut, self._slab_buf, *self._slab_vaos.values(), self._box_vao]:
            obj.release()
