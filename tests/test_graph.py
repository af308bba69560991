from ttm.graph import extract
from ttm_fixtures import tiny_model


def test_fx_graph_has_read_process_write_nodes_with_shapes():
    model = tiny_model()
    cfg = model.config
    graph = extract(model)
    names = {n.name for n in graph.nodes}
    assert {"memory", "inputs", "input_mask", "hook_read", "hook_processed", "hook_memory"} <= names
    by_name = {n.name: n for n in graph.nodes}
    assert by_name["hook_read"].shape == (1, cfg.read_tokens, cfg.dim)
    assert by_name["hook_memory"].shape == (1, cfg.m, cfg.dim)
    assert by_name["hook_read"].group == "read"
    assert by_name["hook_processed"].group == "process"
    assert by_name["hook_memory"].group == "write"
    for group in ("read", "process", "write"):
        assert graph.by_group(group), group
    assert {n.op for n in graph.nodes} >= {"placeholder", "call_module", "call_function", "output"}
    for src, dst in graph.edges:  # every edge points to a known node
        assert src in names and dst in names
    # the write reads the processed tokens: a path hook_processed -> hook_memory exists
    succ = {}
    for src, dst in graph.edges:
        succ.setdefault(src, []).append(dst)
    frontier, seen = ["hook_processed"], set()
    while frontier:
        node = frontier.pop()
        seen.add(node)
        frontier += [n for n in succ.get(node, []) if n not in seen]
    assert "hook_memory" in seen


def test_a_traced_architecture_is_not_traced_again_so_a_training_thread_runs_on(monkeypatch):
    """torch.fx patches nn.Module.__call__ process-wide while it traces: the app's edit on a new
    snapshot's model traced it again on the UI thread and stopped the trainer's thread with
    "module is not installed as a submodule". One trace per architecture, before training starts;
    each later model gets its own module, computing with its own weights."""
    import threading
    import torch
    from ttm import graph as fx_graph
    traced = []
    real_trace = fx_graph._Tracer.trace
    monkeypatch.setattr(fx_graph._Tracer, "trace", lambda self, root: traced.append(root) or real_trace(self, root))
    monkeypatch.setattr(fx_graph, "_graphs", {})
    first = tiny_model(seed=11)
    fx_graph.step_module(first)                       # as the app does before the trainer starts
    assert len(traced) == 1
    trainer_model, errors, stop = tiny_model(seed=12), [], threading.Event()

    def train():
        try:
            while not stop.is_set():
                trainer_model.trace(12, 34)
        except Exception as err:      # what stopped the trainer
            errors.append(err)
    thread = threading.Thread(target=train)
    thread.start()
    try:
        others = [tiny_model(seed=s) for s in (13, 14, 15)]
        modules = [fx_graph.step_module(m) for m in others]
    finally:
        stop.set()
        thread.join()
    assert errors == [] and len(traced) == 1
    cfg = first.config
    inputs = (torch.randn(1, cfg.m, cfg.dim), torch.randn(1, cfg.input_tokens, cfg.dim),
              torch.ones(1, cfg.input_tokens, dtype=torch.bool))
    with torch.no_grad():
        for model, module in zip(others, modules):
            assert torch.equal(module(*inputs)[0], model.step(*inputs)[0])
        assert not torch.equal(modules[0](*inputs)[0], modules[1](*inputs)[0])
    fx_graph.step_module(tiny_model(write_rule="erase_add"))   # another architecture: traced anew
    assert len(traced) == 2
