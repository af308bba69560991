"""Draw a Scene with moderngl into the current framebuffer: lit cubes near, textured slabs traced
into the same cubes for everything else on a grid, point sprites for voxels off a grid, culled
chunks not at all (viz.lod chooses per chunk per frame). Edges of graph layouts are lines; the
hovered and selected voxels get wireframe boxes.

The Renderer orchestrates: it keeps each group's instances in step with the scene, rebuilds the
table of chunks when the scene's structure changes, plans the frame, and hands the plan to each
draw mode (viz.draw), which owns everything it draws with.

Per frame the Python work is per chunk run, never per voxel, so the same code drives a million
voxels on a GPU and a 200k-value trace on a CPU rasterizer.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import moderngl
import numpy as np

from viz import colormap, gl_context, lod
from viz.draw import Boxes, Cubes, Edges, GroupInstances, Pass, Slabs, Sprites, Uploads
from viz.draw.base import UNIT_LUT
from viz.draw.boxes import HOVER_COLOUR, SELECTION_COLOUR
from viz.draw.marks import mark_kind
from viz.draw.ribbons import Ribbons
from viz.draw.text import Texts
from viz.scaled_target import ScaledTarget
from viz.scene import Group, Scene
from viz.shaders import mat_bytes
from viz.text import Label
from viz.voxels import COLORMAPS

FILL = 0.84                 # cube edge / voxel spacing: the black gaps keep neighbours apart


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
    eye: tuple = field(init=False)         # camera position in world space
    focal_px: float = field(init=False)    # pixels per unit of size at unit distance: what a
                                           # thing's size on screen is reckoned by

    def __post_init__(self):
        self.view = np.asarray(self.view, np.float64)
        self.proj = np.asarray(self.proj, np.float64)
        self.vp = self.proj @ self.view
        self.eye = tuple(lod.eye_position(self.view))
        self.focal_px = float(self.proj[1, 1] * self.size[1] / 2.0)


class Renderer:
    def __init__(self, ctx: moderngl.Context | None = None, lod_settings: lod.LodSettings | None = None):
        self.ctx = ctx or gl_context.get()
        self.lod = lod_settings or lod.LodSettings.for_renderer(gl_context.is_software(self.ctx))
        self.light = Light()
        self.stats = RenderStats()
        self.fill = FILL
        self.uploads = Uploads()
        self.slabs = Slabs(self.ctx, self.uploads)
        # drawing order: cubes first, so the depth test rejects what they hide
        self.modes = (Cubes(self.ctx, self.uploads), Sprites(self.ctx, self.uploads), self.slabs,
                      Edges(self.ctx, self.uploads))
        self.boxes = Boxes(self.ctx)
        self.marks = (Ribbons(self.ctx, self.uploads), Texts(self.ctx, self.uploads))  # viz.draw.marks
        self._marked: list[Group] = []             # the shown mark groups
        table = np.stack([colormap.lut(name) for name in COLORMAPS])          # (rows, 256, 4)
        self.lut = self.ctx.texture((256, len(COLORMAPS)), 4, table.astype("f4").tobytes(), dtype="f4")
        self.lut.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.table: lod.ChunkTable | None = None   # every chunk of the drawn groups
        self._instances: dict[int, GroupInstances] = {}
        self._drawn: list[Group] = []              # the groups of `table`, in its order
        self._structure: int | None = None         # the scene structure_version `table` was built for
        self._reported = 0                         # uploads.total at the last RenderStats
        self._scaled: ScaledTarget | None = None   # made for the first frame below full resolution

    # -- keeping the GPU in step with the scene ---------------------------------------------
    def sync(self, scene: Scene) -> int:
        """Upload what changed since the last sync (per group versions); returns bytes sent."""
        before = self.uploads.total
        live = set()
        for mode in self.marks:
            mode.sync(scene)
        for group in scene:
            if mark_kind(group.layout) is not None:
                continue
            instances = self._instances.get(group.uid)
            if instances is None:
                instances = self._instances[group.uid] = GroupInstances(self.ctx, self.uploads)
            update = instances.sync(group)
            if update is not None:
                for mode in self.modes:
                    mode.sync(group, instances, update)
            live.add(group.uid)
        for uid in [u for u in self._instances if u not in live]:
            self._instances.pop(uid).release()
            for mode in self.modes:
                mode.forget(uid)
        if scene.structure_version != self._structure:
            self._drawn = [g for g in scene.shown() if mark_kind(g.layout) is None]
            self._marked = [g for g in scene.shown() if mark_kind(g.layout) is not None]
            self.table = lod.ChunkTable.build(
                [self._instances[g.uid].chunks for g in self._drawn],
                [np.asarray(g.placement.origin, np.float32) for g in self._drawn],
                [float(g.placement.scale) for g in self._drawn])
            self._structure = scene.structure_version
        return self.uploads.total - before

    # -- drawing -----------------------------------------------------------------------------
    def render(self, scene: Scene, size: tuple[int, int], view=None, proj=None, clear: bool = True,
               viewport: tuple[int, int, int, int] | None = None,
               detail: lod.Detail = lod.FULL_DETAIL) -> None:
        """Draw `scene` into the framebuffer bound now, whose size is `size`, over `viewport`
        (x, y, w, h in pixels from the top-left; default the whole framebuffer), e.g. the area
        that panels leave free. `clear` blacks out the whole framebuffer first. The camera gives
        the matrices unless `view` / `proj` (row-major, clip = P @ V @ p) are passed. `detail`
        below full (viz.adaptive) draws fewer pixels and cubes."""
        t0 = time.perf_counter()
        fw, fh = int(size[0]), int(size[1])
        x, y, w, h = (0, 0, fw, fh) if viewport is None else (int(v) for v in viewport)
        if w <= 0 or h <= 0 or fw <= 0 or fh <= 0:
            return
        if detail.render_scale < 1.0:
            self._render_scaled(scene, (fw, fh), (x, y, w, h), view, proj, clear, detail)
            return
        self.sync(scene)
        frame = self._frame(scene, (w, h), view, proj)
        plan = lod.plan(self.table, frame.view, frame.proj, frame.size, detail.settings(self.lod))
        if clear:
            self.ctx.viewport = (0, 0, fw, fh)
            self.ctx.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self.ctx.viewport = (x, fh - y - h, w, h)   # GL counts rows from the bottom
        calls = self._draw(frame, frame.vp, plan, pick=False)
        calls += self._draw_marks(frame, detail)
        calls += self._draw_boxes(scene, frame.vp)
        sent, self._reported = self.uploads.total - self._reported, self.uploads.total
        self.stats = self._stats(plan, calls, sent, time.perf_counter() - t0)

    def _render_scaled(self, scene: Scene, size, viewport, view, proj, clear: bool,
                       detail: lod.Detail) -> None:
        """render() at detail.render_scale of the viewport's pixels per axis, offscreen, then
        stretched over the viewport of the framebuffer that was bound."""
        x, y, w, h = viewport
        small = (max(1, round(w * detail.render_scale)), max(1, round(h * detail.render_scale)))
        proj = scene.camera.projection_matrix(w / h) if proj is None else proj   # the viewport's aspect
        screen = self.ctx.fbo
        if clear:
            self.ctx.viewport = (0, 0, *size)
            self.ctx.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self._scaled = self._scaled or ScaledTarget(self.ctx)
        self._scaled.use(small)
        self.render(scene, small, view, proj, detail=replace(detail, render_scale=1.0))
        self._scaled.stretch(screen, (x, size[1] - y - h, w, h))

    def draw_ids(self, scene: Scene, size: tuple[int, int], window: np.ndarray, view=None, proj=None) -> None:
        """Draw (group index + 1, instance + 1) into the bound integer framebuffer, as the screen
        shows the scene, through `window` @ P @ V (a zoom on the pixels around the cursor; see
        viz.picking). Chunks outside that window are culled; the level of detail is the screen's."""
        self.sync(scene)
        frame = self._frame(scene, size, view, proj)
        clip = np.asarray(window, np.float64) @ frame.vp
        plan = lod.plan(self.table, frame.view, frame.proj, frame.size, self.lod, cull=clip)
        self._draw(frame, clip, plan, pick=True)
        for mode in self.marks:   # pickable marks (ribbons) after the voxels, ids after theirs
            mode.draw(self._marked, {"u_vp": mat_bytes(clip)}, first_id=len(self._drawn))

    def resolve(self, group_index: int, instance: int) -> tuple[Group, int]:
        """(group, voxel) for what draw_ids wrote: group index and instance, both without the + 1
        (a mark's instance is its voxel: marks keep their layout's order)."""
        if group_index >= len(self._drawn):
            return self._marked[group_index - len(self._drawn)], instance
        group = self._drawn[group_index]
        return group, self._instances[group.uid].voxel(instance)

    def _frame(self, scene: Scene, size, view, proj) -> _Frame:
        w, h = size
        view = scene.camera.view_matrix() if view is None else view
        proj = scene.camera.projection_matrix(w / h) if proj is None else proj
        return _Frame(view, proj, (w, h))

    def _draw(self, frame: _Frame, clip: np.ndarray, plan: lod.Plan, pick: bool) -> int:
        uniforms = dict(u_vp=mat_bytes(clip), u_eye=frame.eye, u_focal_px=frame.focal_px,
                        u_fill=self.fill,
                        **self.light_uniforms(frame.view))
        p = Pass(uniforms, pick, self._drawn, [self._instances[g.uid] for g in self._drawn], self.table, plan)
        self.lut.use(UNIT_LUT)
        self.ctx.enable_only(moderngl.DEPTH_TEST | moderngl.PROGRAM_POINT_SIZE)  # cubes draw front faces only
        return sum(mode.draw(p) for mode in self.modes if mode.pickable or not pick)

    def light_uniforms(self, view: np.ndarray) -> dict:
        """The light for the shaders: the view-space headlight turned into world axes."""
        d = np.asarray(self.light.direction, np.float64)
        d = np.asarray(view, np.float64)[:3, :3].T @ (d / np.linalg.norm(d))
        return {"u_light_world": tuple(d.tolist()), "u_ambient": float(self.light.ambient),
                "u_diffuse": float(self.light.diffuse)}

    def _draw_marks(self, frame: _Frame, detail: lod.Detail) -> int:
        """Text and ribbons over the voxels: depth-tested, blended, writing no depth."""
        if not self._marked:
            return 0
        fbo = self.ctx.fbo
        self.ctx.enable(moderngl.BLEND)
        fbo.depth_mask = False
        uniforms = {"u_vp": mat_bytes(frame.vp), "u_eye": frame.eye, "u_focal_px": frame.focal_px}
        calls = sum(mode.draw(self._marked, uniforms, detail=detail) for mode in self.marks)
        fbo.depth_mask = True
        self.ctx.disable(moderngl.BLEND)
        self.ctx.blend_equation = moderngl.FUNC_ADD
        return calls

    def _draw_boxes(self, scene: Scene, vp: np.ndarray) -> int:
        """Boxes around the hovered and selected voxels of visible groups."""
        marks = [(scene.hover, HOVER_COLOUR), (scene.selection, SELECTION_COLOUR)]
        return self.boxes.draw(vp, [(*scene.voxel_box(*mark), colour) for mark, colour in marks
                                    if mark is not None and mark[0] in scene and scene[mark[0]].visible])

    def _stats(self, plan: lod.Plan, calls: int, sent: int, seconds: float) -> RenderStats:
        table = self.table
        in_view = plan.in_view(table)
        has_chunks = np.diff(table.first) > 0
        return RenderStats(
            cubes=plan.voxels(table, lod.CUBES), sprites=plan.voxels(table, lod.SPRITES),
            slab_voxels=plan.voxels(table, lod.SLAB), slab_quads=self.slabs.quads,
            groups_drawn=int(in_view.sum()), groups_culled=int((~in_view & has_chunks).sum()),
            chunks=len(table.count), chunks_culled=int((plan.mode == lod.CULLED).sum()),
            draw_calls=calls, uploaded_bytes=sent, cpu_ms=1000.0 * seconds)

    # -- labels ------------------------------------------------------------------------------
    def project_labels(self, scene: Scene, size: tuple[int, int], view=None, proj=None,
                       viewport: tuple[int, int, int, int] | None = None) -> list[tuple[str, float, float]]:
        """(label, x, y) in pixels from the top-left of a `size` framebuffer for each visible group
        whose label anchor is in front of the camera and inside the view (`viewport` as in
        render); the app draws the text (imgui)."""
        groups = [g for g in scene.shown() if g.layout.label]   # no text: it takes no room
        if not groups:
            return []
        anchors = np.array([np.asarray(g.placement.label_anchor, np.float64) for g in groups])
        xy, seen = self.project_points(scene, anchors, size, view, proj, viewport)
        return [(g.layout.label, float(x), float(y)) for g, (x, y), ok in zip(groups, xy, seen) if ok]

    def project_text(self, scene: Scene, size: tuple[int, int], view=None, proj=None,
                     viewport: tuple[int, int, int, int] | None = None) -> list[tuple[Label, float, float, float]]:
        """(label, x, y, cap_px) for each label of the shown text groups tagged "stand_ins" (a
        graph's names: viz.labels.stand_ins) whose anchor is in view: the anchor in pixels as
        project_labels gives it, and how tall its capitals come out on screen."""
        out = []
        for g in scene.shown():
            if not g.layout.tags.get("stand_ins"):
                continue
            labels = g.layout.tags["labels"]
            anchors = g.world(np.array([lb.anchor for lb in labels], np.float32)).astype(np.float64)
            tops = anchors.copy()
            tops[:, 1] += float(g.placement.scale) * np.array([lb.height for lb in labels])
            xy, seen = self.project_points(scene, anchors, size, view, proj, viewport)
            up, _ = self.project_points(scene, tops, size, view, proj, viewport)
            caps = np.hypot(*(xy - up).T)
            out += [(lb, float(x), float(y), float(c)) for lb, (x, y), c, ok in zip(labels, xy, caps, seen) if ok]
        return out

    def project_points(self, scene: Scene, world, size: tuple[int, int], view=None, proj=None,
                       viewport: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """World points [N, 3] -> (pixels [N, 2] from the top-left of a `size` framebuffer, and
        [N] bool: in front of the camera and inside the view), `viewport` as in render."""
        world = np.asarray(world, np.float64).reshape(-1, 3)
        x0, y0, w, h = (0, 0, *size) if viewport is None else viewport
        if w <= 0 or h <= 0 or not len(world):
            return np.zeros((len(world), 2)), np.zeros(len(world), bool)
        clip = np.c_[world, np.ones(len(world))] @ self._frame(scene, (w, h), view, proj).vp.T
        cw = clip[:, 3]
        seen = (cw > 1e-6) & (np.abs(clip[:, 0]) <= cw) & (np.abs(clip[:, 1]) <= cw)
        safe = np.where(cw > 1e-6, cw, 1.0)
        pixels = np.c_[x0 + (clip[:, 0] / safe + 1.0) * 0.5 * w, y0 + (1.0 - clip[:, 1] / safe) * 0.5 * h]
        return pixels, seen

    def release(self) -> None:
        for instances in self._instances.values():
            instances.release()
        self._instances.clear()
        for mode in (*self.modes, *self.marks):
            mode.release()
        self.boxes.release()
        self.lut.release()
        if self._scaled is not None:
            self._scaled.release()
