"""The two layouts of the trace view, by name: "flow" (one step along its data flow, steps along
depth: studio.flow_view) and "grid" (every shown tensor packed on shelves: studio.view)."""
from __future__ import annotations

from studio.flow_view import FlowSync
from studio.view import SceneSync, ViewOptions
from studio.view_flags import LAYOUTS
from viz.flow_scene import FlowScene
from viz.scene import Scene


def make_view(layout: str, controller, graph=None, options: ViewOptions | None = None):
    """(scene, sync) of `layout`: an empty scene and the view model that fills it from `controller`."""
    if layout == "flow":
        scene = FlowScene()
        return scene, FlowSync(scene, controller, graph=graph, options=options)
    if layout == "grid":
        scene = Scene()
        return scene, SceneSync(scene, controller, graph=graph, options=options)
    raise ValueError(f"unknown layout {layout!r}, want one of {LAYOUTS}")
