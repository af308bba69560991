"""What every draw mode shares: the interface the Renderer calls and the pass it draws.

A mode owns its programs (a colour one and, if it can be picked, a PICKING one), its buffers,
vertex arrays, textures and any per-group data it derives from the group's instances. Per group
the Renderer calls `sync` when the group's instances changed and `forget` when the group is gone;
per pass it calls `draw`, which reads the frame's Plan and draws what falls to this mode.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import moderngl
import numpy as np

from viz import lod
from viz.draw.instances import GroupInstances, InstanceUpdate
from viz.draw.uploads import Uploads
from viz.scene import Group
from viz.shaders import program, set_uniforms
from viz.voxels import COLORMAPS

# texture units of the samplers in shaders/*.glsl
UNIT_LUT, UNIT_CELLS, UNIT_INSTANCES = 0, 1, 2
SAMPLER_UNITS = {"u_lut": UNIT_LUT, "u_cells": UNIT_CELLS, "u_instances": UNIT_INSTANCES}


@dataclass
class Pass:
    """One pass over the drawn groups: a frame on screen, or ids for picking."""
    uniforms: dict                  # for every program: u_vp, u_eye, u_focal_px, u_fill, the light
    pick: bool                      # write (group + 1, instance + 1) instead of a colour
    groups: list[Group]             # the drawn groups: index g is ChunkTable.group and u_group
    instances: list[GroupInstances]  # their instances, same order
    table: lod.ChunkTable
    plan: lod.Plan

    def use_group(self, prog: moderngl.Program, g: int) -> GroupInstances:
        """Set drawn group g's placement, colour table row and id on `prog`; returns its instances."""
        group = self.groups[g]
        set_uniforms(prog, {"u_origin": tuple(np.asarray(group.placement.origin, float).tolist()),
                            "u_scale": float(group.placement.scale),
                            "u_lut_row": COLORMAPS.index(group.layout.colormap),
                            "u_group": int(g)})
        return self.instances[g]


class DrawMode(ABC):
    """One way of drawing voxels (cubes, sprites, slabs, edges), from shaders/<shader>.glsl."""
    shader: str
    pickable: bool = True   # also drawn into the picking pass

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        self.ctx = ctx
        self.uploads = uploads
        variants = (False, True) if self.pickable else (False,)
        self.programs = {pick: program(ctx, self.shader, *(("PICKING",) if pick else ())) for pick in variants}
        for prog in self.programs.values():
            for name, unit in SAMPLER_UNITS.items():
                if name in prog:
                    prog[name] = unit

    def frame_program(self, p: Pass) -> moderngl.Program:
        """The program for this pass, with the pass's uniforms set."""
        prog = self.programs[p.pick]
        set_uniforms(prog, p.uniforms)
        return prog

    def sync(self, group: Group, instances: GroupInstances, update: InstanceUpdate) -> None:
        """Bring what this mode keeps for `group` in step with its instances (nothing by default)."""

    def forget(self, uid: int) -> None:
        """Release what this mode keeps for the group `uid`, which left the scene (nothing by default)."""

    @abstractmethod
    def draw(self, p: Pass) -> int:
        """Draw this mode's part of the pass; returns the number of draw calls."""

    def release(self) -> None:
        """Release this mode's GL objects (the programs are shared, cached by viz.shaders)."""
