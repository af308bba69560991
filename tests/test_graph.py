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
