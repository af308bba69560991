"""Slot effects off the UI thread: the worker computes what ttm.causal computes, reports progress
through on_step, stops a job no longer wanted, reports errors instead of raising, and a result
whose trace has left the view is never shown."""
import threading

import numpy as np
import pytest
import torch

from studio.causal_state import FULL_COLOUR_NATS, CausalState, Job, Worker, overlay
from ttm import causal
from ttm_fixtures import long_trace, tiny_model


@pytest.fixture(scope="module")
def trace():
    return long_trace(tiny_model(seed=11), min_steps=5)


def test_on_step_reports_each_step_and_stops_the_work_when_it_raises(trace):
    seen = []
    causal.ablate_slots(trace, 2, "zero", on_step=lambda done, total: seen.append((done, total)))
    assert seen == [(k, trace.steps - 2) for k in range(1, trace.steps - 1)]
    seen.clear()
    causal.effect_map(trace, "zero", on_step=lambda done, total: seen.append((done, total)))
    assert seen == [(k, trace.steps) for k in range(1, trace.steps + 1)]

    def stop(done, total):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        causal.effect_map(trace, "zero", on_step=stop)


def test_the_cached_mean_is_read_without_running_the_model():
    model = tiny_model(seed=12)
    assert causal.cached_mean_memory(model, (2, 2), 1) is None
    mean = causal.mean_memory(model, (2, 2), 1)
    assert causal.cached_mean_memory(model, (2, 2), 1) is mean


def _computed(state, trace, step):
    state.follow(trace, step)
    assert state.wait()
    state.follow(trace, step)


@pytest.mark.parametrize("ablation", ["zero", "mean"])
def test_the_worker_computes_what_ttm_causal_does(trace, ablation):
    state = CausalState()
    state.overlay, state.ablation = True, ablation
    _computed(state, trace, 1)
    effects = state.effects(trace, 1)
    expected = causal.ablate_slots(trace, 1, ablation)
    assert torch.allclose(effects.effect, expected.effect, atol=1e-6)
    assert torch.equal(effects.changes_answer, expected.changes_answer)
    rows = causal.effect_map(trace, ablation)
    found = state.effect_map(trace)
    assert found.digit.shape == (trace.steps, trace["memory"].shape[1])
    np.testing.assert_allclose(found.total, np.stack([r.effect.numpy() for r in rows]), atol=1e-6)
    np.testing.assert_allclose(found.digit[1], rows[1].per_step[:, 0].numpy(), atol=1e-6)
    # It ran on its own copy of the model: the model a UI-thread replay hooks is not touched.
    assert state._private[trace.model] is not trace.model
    assert state.progress() is None


def test_a_result_for_a_trace_no_longer_on_view_is_never_shown(trace):
    other = trace.model.trace(98, 76)
    state = CausalState()
    state.overlay, state.ablation = True, "zero"
    state.follow(trace, 1)                 # asked for `trace` ...
    assert state.wait()
    state.follow(other, 1)                 # ... but `other` came on view before it was taken in
    assert state.effects(other, 1) is None and state.effects(trace, 1) is None
    assert state.wait()
    state.follow(other, 1)
    assert state.effects(other, 1) is not None and state.effects(trace, 1) is None
    state.overlay = False
    assert state.effects(other, 1) is None and state.jobs(other, 1) == []


def test_a_job_no_longer_wanted_stops_and_errors_are_reported(trace):
    worker = Worker()
    started, steps = threading.Event(), []

    def slow(on_step):
        for k in range(10_000):
            started.set()
            steps.append(k)
            on_step(k, 10_000)
            threading.Event().wait(0.002)
        return "finished"
    job = Job("effects", trace, 0, "zero")
    worker.want([(job, slow)])
    assert started.wait(10)
    assert worker.running()[0] == job
    worker.want([])                        # nothing wanted now: it stops at its next step
    assert worker.wait(10) and len(steps) < 10_000
    assert worker.take() == []             # a cancelled job reports nothing

    def broken(on_step):
        raise ValueError("the source trace 1 × 2 has no memory entering step 4")
    worker.want([(job, broken)])
    assert worker.wait(10)
    assert worker.take() == [(job, None, "the source trace 1 × 2 has no memory entering step 4")]


def test_the_overlay_paints_slot_effects_on_the_memory_entering_the_step(trace):
    state = CausalState()
    state.overlay, state.ablation = True, "zero"
    _computed(state, trace, 2)
    m, d = trace["memory"].shape[1:]
    effects = state.effects(trace, 2)
    painted = overlay("memory.before", (m, d), effects, state.effect_map(trace), 2)
    top = max(float(effects.effect.abs().max()), FULL_COLOUR_NATS)
    assert painted.values.shape == (m, d) and painted.colormap == "diverging"
    assert painted.value_range == pytest.approx((-top, top))
    np.testing.assert_array_equal(painted.values[:, 0], effects.effect.numpy())
    assert "step 2" in painted.legend and "zeroed" in painted.legend
    every = overlay("memory", (trace.steps + 1, m, d), effects, state.effect_map(trace), 2)
    np.testing.assert_array_equal(every.values[2, :, 0], state.effect_map(trace).total[2])
    assert not every.values[-1].any()       # the memory after the last step feeds no step
    assert overlay("effects", (trace.steps, m), None, state.effect_map(trace), 0).values.shape == (trace.steps, m)
    assert overlay("memory.after", (m, d), effects, None, 2) is None
    flat = causal.ablate_slots(trace, 0, "mean")
    unmoved = overlay("memory.before", (m, d), flat, None, 0)
    assert "the same for every problem" in unmoved.legend
    # effects of rounding size are not stretched to full colour
    assert unmoved.value_range == (-FULL_COLOUR_NATS, FULL_COLOUR_NATS)
    assert np.abs(unmoved.values).max() < 1e-3 * FULL_COLOUR_NATS
