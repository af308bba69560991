"""Sending data to the GPU, and counting the bytes for RenderStats.uploaded_bytes."""
from __future__ import annotations

import moderngl
import numpy as np


class Uploads:
    """Bytes sent to the GPU, for RenderStats.uploaded_bytes; every owner counts its uploads here."""

    def __init__(self):
        self.total = 0

    def add(self, nbytes: int) -> None:
        self.total += int(nbytes)

    def write(self, buffer: moderngl.Buffer, data: np.ndarray) -> None:
        """write_buffer, counted."""
        self.add(write_buffer(buffer, data))


def write_buffer(buffer: moderngl.Buffer, data: np.ndarray) -> int:
    """Replace the buffer's contents with `data`. Orphaning first gives the driver fresh storage, so
    the write need not wait for frames still drawing from the old one (and the buffer can grow)."""
    data = np.ascontiguousarray(data)
    if data.nbytes:
        buffer.orphan(max(data.nbytes, buffer.size))
        buffer.write(data, offset=0)
    return data.nbytes
