"""The view: tensors -> voxel layouts -> a canvas to fly through.

Only the GL-free half is imported here (no moderngl, no pyglet), so tests and tools that just map
tensors or do camera math run without a GL context.
"""
from viz.camera import Camera
from viz.colormap import lut, normalize
from viz.mappers import VisMapper, map_tensor, mapper_for, pca_layout, register
from viz.placement import Placement, place
from viz.voxels import VoxelLayout

__all__ = ["Camera", "Placement", "VisMapper", "VoxelLayout", "lut", "map_tensor", "mapper_for",
           "normalize", "pca_layout", "place", "register"]
