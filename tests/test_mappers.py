"""Mapper logic with no GL: every voxel shows the tensor element (or pooled mean) it claims to."""

import numpy as np
import pytest
import torch

from ttm.graph import FxGraph, FxNode
from viz.mappers import map_tensor, pca_layout
from viz.mappers.attention import AttentionMapper
from viz.mappers.generic import STEP_PITCH, GenericMapper, grid_positions
from viz.mappers.graph import depths, edge_list, settle
from viz.mappers.layered import LayeredGraphMapper
from viz.mappers.memory import MemoryMapper


def rng():
    return np.random.default_rng(0)


def assert_round_trip(layout, source):
    """values[i] == source[indices[i]], or the mean of the block it names when pooled."""
    if layout.pooled is None:
        np.testing.assert_allclose(layout.values, source[tuple(layout.indices.T)], rtol=1e-6)
    else:
        for i in rng().choice(layout.count, size=min(layout.count, 200), replace=False):
            block = tuple(slice(j * f, (j + 1) * f) for j, f in zip(layout.indices[i], layout.pooled))
            assert layout.values[i] == pytest.approx(source[block].mean(), rel=1e-5, abs=1e-6)
    assert len(np.unique(layout.positions, axis=0)) == layout.count, "two voxels share a place"


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4), (2, 3, 2, 3, 4), (5, 1, 2, 2)])
def test_generic_round_trip(shape):
    source = rng().normal(size=shape)
    layout = GenericMapper().map("x", source)
    assert layout.count == source.size and layout.pooled is None
    assert layout.indices.shape == (source.size, len(shape))
    assert_round_trip(layout, source)


def test_generic_axes_rule():
    assert grid_positions((3,))[:, 0].tolist() == [0, 1, 2]
    grid = GenericMapper().map("x", np.arange(6.0).reshape(2, 3))
    # Row 1, column 2 sits one row down (-y) and two columns right (+x).
    assert grid.positions[5].tolist() == [2, -1, 0]
    block = GenericMapper().map("x", np.zeros((4, 2, 3)))
    np.testing.assert_array_equal(block.extent, [3, 2, 4])
    assert block.positions[:, 2].min() == -3  # first axis goes away from the viewer


def test_generic_tiles_nd_in_a_near_square_grid_with_gaps():
    layout = GenericMapper().map("x", np.ones((5, 1, 2, 3)))  # 5 tiles of 2 x 3 -> 3 per row
    tiles = layout.indices[:, 0]
    corner = {t: layout.positions[(tiles == t)].min(axis=0)[:2].tolist() for t in range(5)}
    assert corner[1][0] - corner[0][0] == 3 + 1  # one-voxel gap between tiles
    assert corner[3] == [0, -(2 + 1) - 1]          # tile 3 starts the second row
    np.testing.assert_array_equal(layout.extent, [3 * 3 + 2, 2 * 2 + 1, 1])


def test_torch_tensor_with_grad_and_bfloat16():
    source = torch.randn(3, 4, requires_grad=True)
    layout = map_tensor("x", source * 2)
    assert_round_trip(layout, (source * 2).detach().numpy())
    assert map_tensor("x", torch.ones(2, 2, dtype=torch.bfloat16)).values.tolist() == [1] * 4


def test_auto_colormap():
    assert GenericMapper().map("x", rng().normal(size=10)).colormap == "diverging"
    signed = GenericMapper().map("x", np.array([-2.0, 1.0]))
    assert signed.value_range == (-2.0, 2.0)
    weights = GenericMapper().map("x", rng().random(10))
    assert (weights.colormap, weights.value_range) == ("sequential", (0.0, 1.0))
    assert GenericMapper().map("x", np.array([0.0, 5.0])).value_range == (0.0, 5.0)


def test_pooling_summarizes_never_truncates():
    source = rng().normal(size=(9, 96, 128)).astype(np.float32)
    layout = MemoryMapper(max_voxels=60000).map("memory", source)
    assert layout.pooled == (1, 1, 2) and layout.count == 9 * 96 * 64 <= 60000
    assert "memory [T+1 x m x d] = [9,96,128] mean-pooled x2 on axis 2" == layout.label
    assert_round_trip(layout, source)
    assert layout.values.mean() == pytest.approx(source.mean(), abs=1e-5)


def test_pooling_uneven_blocks_are_exact_means():
    source = rng().normal(size=(7, 5))
    layout = GenericMapper(max_voxels=9).map("x", source)
    assert layout.count <= 9 and layout.pooled == (3, 2)
    assert_round_trip(layout, source)
    assert layout.values[-1] == pytest.approx(source[6:, 4:].mean())


def test_memory_slabs_one_per_step_along_z():
    source = rng().normal(size=(4, 6, 8))
    layout = map_tensor("memory", source)
    assert layout.label == "memory [T+1 x m x d] = [4,6,8]"
    assert_round_trip(layout, source)
    z_of_step = {s: set(layout.positions[layout.indices[:, 0] == s, 2]) for s in range(4)}
    assert z_of_step == {s: {-s * STEP_PITCH} for s in range(4)}
    np.testing.assert_array_equal(layout.extent[:2], [8, 6])  # d columns, m rows


def test_attention_tiles_heads_x_layers_y_steps_z():
    source = rng().dirichlet(np.ones(5), size=(3, 2, 4, 5))  # [T, layers, heads, r, r]
    layout = map_tensor("attention", source)
    assert (layout.colormap, layout.value_range) == ("sequential", (0.0, 1.0))
    assert_round_trip(layout, source)
    s, l, h, i, j = layout.indices.T
    np.testing.assert_array_equal(layout.positions[:, 0], h * 6 + j)
    np.testing.assert_array_equal(layout.positions[:, 1], -(l * 6 + i))
    np.testing.assert_array_equal(layout.positions[:, 2], -s * STEP_PITCH)


@pytest.mark.parametrize("shape, extent", [((3, 4, 5, 5), [4 * 6 - 1, 5, 2 * STEP_PITCH + 1]),
                                           ((4, 5, 5), [4 * 6 - 1, 5, 1]), ((5, 5), [5, 5, 1])])
def test_attention_per_layer_shapes(shape, extent):
    source = rng().random(shape)
    layout = AttentionMapper().map("process.layer0.attn", source)
    assert_round_trip(layout, source)
    np.testing.assert_array_equal(layout.extent, extent)


def test_attention_out_of_range_values_get_a_data_range():
    layout = AttentionMapper().map("attention", np.array([[-3.0, 1.0], [0.5, 2.0]]))
    assert (layout.colormap, layout.value_range) == ("diverging", (-3.0, 3.0))


def test_weights_slabs_and_segments():
    source = rng().random((3, 2, 10))
    layout = map_tensor("read.weights", source, segments={"memory": 6, "input": 4})
    assert_round_trip(layout, source)
    assert (layout.colormap, layout.value_range) == ("sequential", (0.0, 1.0))
    assert layout.tags["segments"] == {"memory": (0, 6), "input": (6, 10)}
    assert "memory 0:6, input 6:10" in layout.label
    np.testing.assert_array_equal(layout.extent, [10, 2, 2 * STEP_PITCH + 1])
    with pytest.raises(ValueError, match="do not add up to the 10 columns"):
        map_tensor("write.weights", source, segments={"memory": 6})


def test_embedding_grid_and_labels():
    source = rng().normal(size=(13, 8))
    layout = map_tensor("embedding", source, labels=list("0123456789xEP"))
    assert_round_trip(layout, source)
    assert layout.tags["labels"][10] == "x"
    with pytest.raises(ValueError, match="13 tokens but 2 labels"):
        map_tensor("embedding", source, labels=["a", "b"])


def test_embedding_pca_cloud():
    source = rng().normal(size=(13, 16))
    source[:, 0] *= 10  # a dominant direction: PC1 must follow feature 0
    cloud = pca_layout(source, labels=[f"t{i}" for i in range(13)])
    assert cloud.name == "embedding.pca" and cloud.count == 13
    assert cloud.tags["labels"][3] == "t3" and cloud.colormap == "categorical"
    np.testing.assert_array_equal(cloud.indices[:, 0], np.arange(13))
    centred = source[:, 0] - source[:, 0].mean()
    assert abs(np.corrcoef(cloud.positions[:, 0], centred)[0, 1]) > 0.99
    assert 5 < np.abs(cloud.positions).max() < 20  # a sensible extent for 13 tokens
    # The sign convention makes the picture independent of the sign and order of the features.
    shuffled = pca_layout(-source[:, ::-1])
    np.testing.assert_allclose(shuffled.positions, cloud.positions, atol=1e-4)
    assert map_tensor("embedding.pca", source).count == 13


def test_embedding_pca_of_a_tiny_table():
    cloud = pca_layout(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert cloud.count == 2 and np.all(cloud.positions[:, 1:] == 0)


def fx_node(name, op, target, inputs=(), shape=None, group="other") -> FxNode:
    return FxNode(name, op, target, tuple(inputs), shape, group)


def fx_graph(nodes) -> FxGraph:
    """The mapper's input is what ttm.graph.extract makes: nodes, and edges between their names."""
    return FxGraph(tuple(nodes))


def test_graph_errors():
    with pytest.raises(ValueError, match="not a node"):
        LayeredGraphMapper().map("graph", fx_graph([fx_node("a", "output", "o", ("ghost",))]))
    with pytest.raises(ValueError, match=r"cycle through nodes \['a', 'b'\]"):
        LayeredGraphMapper().map("graph", fx_graph([fx_node("a", "call_function", "f", ("b",)),
                                                    fx_node("b", "call_function", "g", ("a",))]))
    with pytest.raises(ValueError, match="no nodes"):
        LayeredGraphMapper().map("graph", fx_graph([]))
    with pytest.raises(ValueError, match="want a graph with .nodes and .edges, got list"):
        LayeredGraphMapper().map("graph", [1, 2])
    with pytest.raises(ValueError, match="group"):
        LayeredGraphMapper().map("graph", fx_graph([fx_node("a", "placeholder", "a", group="middle")]))


def test_a_value_made_early_but_used_late_is_ranked_next_to_its_consumer():
    graph = fx_graph([fx_node("a", "placeholder", "a"), fx_node("b", "call_function", "f", ("a",)),
                      fx_node("c", "call_function", "g", ("b",)), fx_node("p", "get_attr", "p"),
                      fx_node("d", "call_function", "h", ("c", "p"))])
    edges = edge_list(graph)
    longest = depths([n.name for n in graph.nodes], edges)
    assert longest == [0, 1, 2, 0, 3]
    assert settle(edges, longest) == [0, 1, 2, 2, 3]            # p at c's rank, right before d
