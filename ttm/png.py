"""A minimal PNG writer (zlib + struct), so charts need neither matplotlib nor Pillow.

Neutral on purpose: ttm/ must never import viz/, so anything that writes an image from ttm/ or
bench/ uses this module.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode(image: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of an (H, W, 3) RGB or (H, W, 4) RGBA uint8 image, first row on top (8 bits,
    no interlace); `level` is the zlib compression level."""
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image has shape {image.shape} and dtype {image.dtype}, "
                         "want (H, W, 3) or (H, W, 4) uint8")
    h, w, c = image.shape
    color_type = 2 if c == 3 else 6
    # Filter type 0 (None) on every row: a leading zero byte per scanline, then the raw pixels.
    raw = np.concatenate([np.zeros((h, 1), np.uint8), image.reshape(h, w * c)], axis=1)
    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + _chunk(b"IEND", b""))


def write(path, image: np.ndarray) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(image))
    return path


def decode(data: bytes) -> np.ndarray:
    """Inverse of `encode` for the files it writes (8-bit RGB/RGBA, filter 0): used by tests."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]:
            raise ValueError(f"bad CRC in {kind!r} chunk")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, color_type = header[:4]
    if depth != 8 or color_type not in (2, 6):
        raise ValueError(f"only 8-bit RGB/RGBA is supported, got depth {depth} type {color_type}")
    c = 3 if color_type == 2 else 4
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    if rows[:, 0].any():
        raise ValueError("only filter type 0 is supported")
    return rows[:, 1:].reshape(h, w, c).copy()
