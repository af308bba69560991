"""Token embeddings [vocab, d]: the raw table as a grid, and a 3-D PCA point cloud of the tokens.

"embedding" draws the table (one row per token, going down); "embedding.pca" draws one voxel per
token at its first three principal-component coordinates, coloured by token id.
"""
from __future__ import annotations

import numpy as np

from viz.mappers.base import VisMapper, as_finite_array, format_shape
from viz.mappers.generic import grid_positions
from viz.mappers.registry import register
from viz.voxels import VoxelLayout

SPREAD = 3.0  # half-width of the cloud per cube-root token: ~13 tokens span ~14 voxels


def _check_labels(name: str, labels, vocab: int) -> list[str]:
    labels = [str(i) for i in range(vocab)] if labels is None else [str(t) for t in labels]
    if len(labels) != vocab:
        raise ValueError(f"{name!r} has {vocab} tokens but {len(labels)} labels")
    return labels


@register("embedding")
class EmbeddingMapper(VisMapper):
    axes = ("vocab", "d")
    ndims = (2, 2)

    def positions(self, shape: tuple[int, ...]) -> np.ndarray:
        return grid_positions(shape)

    def annotate(self, shape: tuple[int, ...], labels=None):
        """``labels``: one string per token (row), kept in ``tags["labels"]``."""
        return "", {"labels": _check_labels("embedding", labels, shape[0])}


def pca_layout(data, labels=None, name: str = "embedding.pca") -> VoxelLayout:
    """One voxel per token at its coordinates on the first 3 principal components of the table.

    Each component's sign is fixed so that the token farthest out along it is on the positive
    side (SVD alone leaves the sign arbitrary), so the picture depends only on the shape of the
    token cloud: not on the library, nor on the sign or order of the embedding's features.
    Coordinates are scaled so that the cloud's half-width is SPREAD * vocab ** (1/3) voxels.
    """
    table = as_finite_array(name, data)
    if table.ndim != 2:
        raise ValueError(f"cannot draw {name!r}: shape {table.shape}, want (vocab, d)")
    vocab = table.shape[0]
    labels = _check_labels(name, labels, vocab)
    centred = table.astype(np.float64) - table.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    tol = s.max(initial=0.0) * max(table.shape) * np.finfo(np.float64).eps
    k = min(3, int(np.count_nonzero(s > tol)))  # rounding noise is not a direction
    scores = u[:, :k] * s[:k]  # (vocab, k)
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(k)])
    coords = np.zeros((vocab, 3))
    coords[:, :k] = scores * np.where(signs == 0, 1.0, signs)
    largest = np.abs(coords).max()
    if largest > 0:
        coords *= SPREAD * vocab ** (1 / 3) / largest
    variance = s ** 2
    explained = variance[:k] / variance.sum() if variance.sum() > 0 else np.zeros(k)
    return VoxelLayout(
        name=name,
        label=f"{name} [{vocab} tokens, PCA of [{format_shape(table.shape)}], "
              f"{100 * explained.sum():.0f}% of variance]",
        positions=coords,
        values=np.arange(vocab),
        indices=np.arange(vocab)[:, None],
        colormap="categorical",
        value_range=(0.0, 255.0),  # token id k -> categorical entry k
        tags={"labels": labels, "explained": explained.tolist()},
    )


@register("embedding.pca")
class EmbeddingPCAMapper:
    """Registry adapter for pca_layout (a point cloud is not a grid, so not a VisMapper)."""

    def map(self, name: str, data, labels=None) -> VoxelLayout:
        return pca_layout(data, labels, name)
