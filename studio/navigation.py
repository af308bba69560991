"""How the TraceViewer's camera gets around: F frames (the selection's group, else the step or the
scene), G the fx graph, and Home shows the whole scene, both as short smooth flights (viz.flight); the fly speed
follows the distance to what is in view; and in the flow layout the camera and the timeline follow
each other: a new step on the timeline flies the camera the same way to that step's plane, and
flying the camera's focus to another step's plane makes it the current step.

Any use of keys or mouse ends a flight at once (the camera is not where the flight left it).
"""
from __future__ import annotations

import numpy as np

from studio.flow_view import FlowSync
from viz.flight import Flight, Pose, fly_speed

HOME_YAW, HOME_PITCH = 28.0, -18.0   # the whole flow stack seen from the front-left and above
GRAPH_GROUPS = ("graph", "graph.text")   # the fx graph's nodes and its labels, in either layout


class Navigator:
    def __init__(self, viewer):
        self.viewer = viewer          # a TraceViewer: scene, sync, controller, frame_box
        self.flight: Flight | None = None
        self._left: Pose | None = None     # where the flight left the camera last frame
        self._step: int | None = None      # the step the camera was following

    @property
    def camera(self):
        return self.viewer.scene.camera

    def _fly(self, target: Pose) -> None:
        self.flight = Flight(self.camera, target)
        self._left = Pose.of(self.camera)

    def _framing(self, lo, hi, yaw: float | None = None, pitch: float | None = None) -> Pose:
        """The pose that frames the box (Viewer.frame_box), the camera left where it is."""
        cam = self.camera
        start = Pose.of(cam)
        if yaw is not None:
            cam.yaw, cam.pitch = yaw, pitch
        self.viewer.frame_box(lo, hi)
        target = Pose.of(cam)
        start.apply(cam)
        return target

    def frame(self) -> None:
        """F: fly to the selected voxel's group, else to what the view is about (step or scene)."""
        scene = self.viewer.scene
        sel = scene.selection
        if sel is not None and sel[0] in scene and scene[sel[0]].visible:
            p = scene[sel[0]].placement
            box = (p.bbox_min, p.bbox_max)
        else:
            box = self.viewer.sync.focus_box()
        if box is not None:
            self._fly(self._framing(*box))

    def graph(self) -> bool:
        """G: fly to the fx graph (its nodes and their names), seen from the front; False when
        the view shows none. Under the flow it lies outside the step's framing, and small."""
        box = self.viewer.scene.group_box(GRAPH_GROUPS)
        if box is None:
            return False
        self._fly(self._framing(*box, 0.0, 0.0))
        return True

    def home(self) -> None:
        """Home: the whole scene, every step of a flow included, from the front and a little aside."""
        sync = self.viewer.sync
        if isinstance(sync, FlowSync):
            sync.show_every_step()
        box = self.viewer.scene.bbox()
        if box is not None:
            flow = isinstance(sync, FlowSync)
            self._fly(self._framing(*box, HOME_YAW if flow else 0.0, HOME_PITCH if flow else 0.0))

    def update(self, dt: float) -> None:
        cam = self.camera
        if self.flight is not None:
            if self._left is not None and not _same(Pose.of(cam), self._left):
                self.flight = None            # keys or mouse took over
            else:
                self.flight.advance(cam, dt)
                self._left = Pose.of(cam)
                if self.flight.done:
                    self.flight = None
        scene = self.viewer.scene
        cam.speed = fly_speed(cam, [(g.placement.bbox_min, g.placement.bbox_max) for g in scene.shown()])
        sync = self.viewer.sync
        if isinstance(sync, FlowSync):
            self._follow(sync)

    def _follow(self, sync: FlowSync) -> None:
        c = self.viewer.controller
        if c.trace is None:
            return
        if self._step is not None and c.step != self._step and sync.follows(self.camera, self._step):
            # the timeline moved (by any number of steps: the camera was on the step it left,
            # not on the one it goes to): the camera makes the same move in depth
            shift = np.asarray(sync.origin(c.step)) - np.asarray(sync.origin(self._step))
            base = self.flight.target if self.flight is not None else Pose.of(self.camera)
            self._fly(Pose(base.position + shift, base.yaw, base.pitch, base.distance))
        elif self.flight is None:
            seen = sync.step_at(self.camera)
            if seen is not None and seen != c.step:
                c.set_step(seen)
        self._step = c.step
        if self.flight is None:        # the stack's visibility settles where a flight ends
            sync.show_steps_near(self.camera)


def _same(a: Pose, b: Pose) -> bool:
    return (np.allclose(a.position, b.position, atol=1e-6) and abs(a.yaw - b.yaw) < 1e-6
            and abs(a.pitch - b.pitch) < 1e-6 and abs(a.distance - b.distance) < 1e-6)
