"""What a picked voxel is, for the inspector: a Selection of its tensor cell and value, or, where
the voxel stands for something the trace does not hold (a graph node, a token in PCA space, a
pooled block), what the view knows of it."""
from __future__ import annotations

from studio.flow_view import flow_note
from studio.selection import Selection


def graph_note(layout, voxel: int) -> str:
    """"node linear_3: call_module process.blocks.0.attn.qkv -> (1, 8, 96), process stage"."""
    tags = layout.tags
    shape = tags["shapes"][voxel]
    return (f"graph node {tags['names'][voxel]}: {tags['ops'][voxel]} {tags['targets'][voxel]}"
            f"{f' -> {tuple(shape)}' if shape else ''}, {tags['groups'][voxel]} stage")


def selection_of(scene, pick) -> Selection | None:
    """What the inspector says of a picked voxel of `scene`: its tensor cell and value, or what the
    view knows of it (a graph node, a token in PCA space, a pooled block)."""
    if pick is None:
        return None
    group = scene.groups.get(pick.name)
    note = flow_note(pick)
    if note:
        return Selection(pick.name, pick.index_in_tensor, pick.value, note)
    if pick.name == "graph" and group is not None:
        # a node's voxel value is its op's colour code, not a number of the run: none is shown
        return Selection(pick.name, pick.index_in_tensor, None, graph_note(group.layout, pick.voxel))
    if pick.name == "embedding.pca" and group is not None:
        label = group.layout.tags["labels"][pick.voxel]
        return Selection(pick.name, pick.index_in_tensor, None, f"token {label!r} in embedding PCA space")
    if group is not None and group.layout.pooled is not None:
        return Selection(pick.name, pick.index_in_tensor, pick.value,
                         f"{pick.name} pooled block {list(pick.index_in_tensor)} (mean {pick.value:.4f})")
    return Selection(pick.name, pick.index_in_tensor, pick.value)
