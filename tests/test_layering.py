"""The model side never depends on the view: ttm/ imports neither viz/ nor any GL or window library."""
import ast
from pathlib import Path

FORBIDDEN = {"viz", "moderngl", "pyglet", "imgui", "OpenGL", "studio"}


def test_ttm_does_not_import_the_view():
    offenders = []
    for path in Path(__file__).parent.parent.joinpath("ttm").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders, offenders
