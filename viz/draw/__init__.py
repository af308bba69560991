"""The draw modes of the renderer, one owner each (programs, buffers, vertex arrays, textures and
per-group data): Cubes (near), Sprites (mid-size, off a grid), Slabs (far, on a grid), Edges (graph
lines); and Boxes for the hovered and selected voxels. They share each group's GroupInstances and
the DrawMode interface (viz.draw.base); viz.renderer decides per frame which chunks each draws.
"""
from viz.draw.base import DrawMode, Pass
from viz.draw.boxes import Boxes
from viz.draw.cubes import Cubes
from viz.draw.edges import Edges
from viz.draw.instances import GroupInstances, InstanceUpdate
from viz.draw.slabs import Slabs
from viz.draw.sprites import Sprites
from viz.draw.uploads import Uploads

__all__ = ["Boxes", "Cubes", "DrawMode", "Edges", "GroupInstances", "InstanceUpdate", "Pass", "Slabs",
           "Sprites", "Uploads"]
