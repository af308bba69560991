"""Which mapper a semantic name selects, custom registration, and the errors for undrawable data."""
import numpy as np
import pytest
import torch

from viz.mappers import VisMapper, map_tensor, mapper_for, register, registry
from viz.mappers.attention import AttentionMapper
from viz.mappers.embedding import EmbeddingMapper, EmbeddingPCAMapper
from viz.mappers.generic import GenericMapper
from viz.mappers.layered import LayeredGraphMapper
from viz.mappers.memory import MemoryMapper
from viz.mappers.weights import WeightsMapper


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made in a test vanish after it."""
    monkeypatch.setattr(registry, "_MAPPERS", dict(registry._MAPPERS))


@pytest.mark.parametrize("name, cls", [
    ("memory", MemoryMapper), ("read.weights", WeightsMapper), ("write.weights", WeightsMapper),
    ("attention", AttentionMapper), ("embedding", EmbeddingMapper),
    ("embedding.pca", EmbeddingPCAMapper), ("graph", LayeredGraphMapper),
    # longest dotted prefix
    ("process.layer2.attn", AttentionMapper), ("memory.step3", MemoryMapper),
    ("embedding.pca.tokens", EmbeddingPCAMapper),
    # nothing registered: the generic grid
    ("logits", GenericMapper), ("read", GenericMapper), ("memoryless", GenericMapper),
])
def test_selection_order(name, cls):
    assert type(mapper_for(name)) is cls


def test_custom_mapper_in_a_few_lines(scratch_registry):
    @register("probe", "probe.deep.special")
    class Diagonal(VisMapper):
        def positions(self, shape):
            i = np.arange(int(np.prod(shape)), dtype=np.float32)
            return np.stack([i, i, i], axis=1)

    layout = map_tensor("probe.layer1", np.arange(4.0))
    assert isinstance(mapper_for("probe.deep.special.x"), Diagonal)
    assert layout.positions[3].tolist() == [3, 3, 3] and layout.values[3] == 3
    assert layout.label == "probe.layer1 [4]"


def test_longest_prefix_wins(scratch_registry):
    @register("memory.step0")
    class First(MemoryMapper):
        pass

    assert type(mapper_for("memory.step0.tokens")) is First
    assert type(mapper_for("memory.step1")) is MemoryMapper


def test_a_taken_name_is_refused(scratch_registry):
    with pytest.raises(ValueError, match="'memory' is already drawn by .*MemoryMapper"):
        register("memory")(GenericMapper)


def test_non_finite_values_are_named():
    memory = np.zeros((1, 12, 128))
    memory[0, 3, :3] = [np.nan, np.inf, -np.inf]
    with pytest.raises(ValueError, match=r"cannot draw 'memory': 3 of 1536 values are not finite"):
        map_tensor("memory", memory)
    with pytest.raises(ValueError, match="not finite"):
        map_tensor("attention", torch.full((2, 2), float("nan")))


def test_empty_and_wrong_rank_are_named():
    with pytest.raises(ValueError, match=r"cannot draw 'read.weights': it is empty \(shape \(0, 4\)\)"):
        map_tensor("read.weights", np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"cannot draw 'memory': shape \(5,\) has 1 dims, want 2 to 3"):
        map_tensor("memory", np.zeros(5))
    with pytest.raises(ValueError, match="not real numbers"):
        map_tensor("x", np.array(["a", "b"]))


def test_unknown_options_are_refused():
    with pytest.raises(TypeError, match="MemoryMapper takes no options"):
        map_tensor("memory", np.zeros((1, 2, 2)), segments={"memory": 2})
