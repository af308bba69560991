"""Write PNG files with zlib alone (no PIL): 8-bit RGB or RGBA, rows top first."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def encode(image: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of an (h, w, 3|4) uint8 image whose first row is the top."""
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image has shape {image.shape} and dtype {image.dtype}, want (h, w, 3|4) uint8")
    h, w, c = image.shape
    # filter type 0 (none) in front of every row
    raw = np.concatenate([np.zeros((h, 1), np.uint8), image.reshape(h, w * c)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 6 if c == 4 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, level))
            + chunk(b"IEND", b""))


def write(path, image: np.ndarray) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(image))
    return path
