"""Tensor -> voxel mappers, chosen by semantic name (see registry.py).

Importing this package registers the built-in mappers.
"""
from viz.mappers.base import MAX_VOXELS, VisMapper
from viz.mappers.registry import map_tensor, mapper_for, register
from viz.mappers import attention, embedding, layered, memory, weights  # noqa: F401  (they register)
from viz.mappers.embedding import pca_layout

__all__ = ["MAX_VOXELS", "VisMapper", "map_tensor", "mapper_for", "pca_layout", "register"]
