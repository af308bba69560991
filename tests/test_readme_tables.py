"""README's across-seeds ablation table is what `ttm.ablate --from-json` makes of the saved runs
its command names, so the figures a reader sees cannot drift from the JSON beside them."""
import json
import re
from pathlib import Path

from ttm.ablate import across_seeds, seeds_table

ROOT = Path(__file__).resolve().parents[1]


def test_the_across_seeds_table_is_the_saved_ablations():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"python3 -m ttm\.ablate --from-json ((?:docs/\S+\.json ?)+) --png docs/ablation-seeds\.png",
                        readme)
    paths = [str(p.relative_to(ROOT)) for pattern in command[1].split()
             for p in sorted(ROOT.glob(pattern))]
    assert len(paths) >= 4
    records = [json.loads((ROOT / p).read_text()) for p in paths]
    table = seeds_table(across_seeds(records, paths))
    assert table in readme
    assert {r["seed"] for r in records} >= {0, 1, 2, 3}
