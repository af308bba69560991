"""Results saved as JSON (`ttm.evaluate --json`, `ttm.ablate --out`) read back for --from-json."""
from __future__ import annotations

import json
from pathlib import Path


def read_saved(path, keys, what: str) -> dict:
    """The saved record at `path`; ValueError (OSError for an unreadable file) naming the file when
    it is not JSON or lacks one of `keys`."""
    try:
        record = json.loads(Path(path).read_text())
    except ValueError as err:  # bad JSON, or bytes that are not UTF-8
        raise ValueError(f"{path} is not a saved {what} (not JSON: {err})") from None
    missing = [k for k in keys if not isinstance(record, dict) or k not in record]
    if missing:
        raise ValueError(f"{path} is not a saved {what} (no {', '.join(missing)})")
    return record
