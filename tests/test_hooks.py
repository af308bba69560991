import torch

from ttm.data import make_batch
from ttm.hooks import capture, edit, hook_points
from ttm_fixtures import tiny_model


def _hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_hook_points_have_stable_semantic_names():
    names = set(hook_points(tiny_model()))
    assert {"memory", "read.weights", "read.tokens", "processed", "write.weights", "logits",
            "process.layer0.attn", "process.layer1.attn"} <= names


def test_capture_records_each_step_and_removes_its_hooks():
    model = tiny_model()
    problem, target = make_batch([(3, 4), (12, 12)], model.config)
    with capture(model, ["memory", "logits"]) as cache:
        model(problem, target)
    assert set(cache) == {"memory", "logits"}
    assert len(cache["memory"]) == target.shape[1]
    assert _hook_count(model) == 0


def test_capture_samples_every_nth_forward():
    model = tiny_model()
    problem, target = make_batch([(3, 4)], model.config)
    seen = []
    with capture(model, ["logits"], every=3) as cache:
        for _ in range(6):
            cache.clear()
            model(problem, target)
            seen.append(bool(cache))
    assert seen == [True, False, False, True, False, False]


def test_hooks_are_removed_even_on_error():
    model = tiny_model()
    try:
        with capture(model), edit(model, {"memory": lambda x, i: x}):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert _hook_count(model) == 0


def test_edit_replaces_an_activation():
    model = tiny_model()
    problem, target = make_batch([(3, 4)], model.config)
    with torch.no_grad():
        clean, _ = model(problem, target)
        with edit(model, {"logits": lambda x, i: torch.zeros_like(x) if i == 1 else x}):
            patched, _ = model(problem, target)
    assert torch.equal(patched[:, 0], clean[:, 0])
    assert torch.all(patched[:, 1] == 0)
