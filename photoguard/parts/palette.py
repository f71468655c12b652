"""Colours as single numbers, for pictures drawn in a few of them (GIF, palette PNG)."""

from __future__ import annotations

import numpy as np

#: nearest colours are found this many at a time (x 256 palette entries): bounded memory
_CHUNK = 4096


def packed(pixels: np.ndarray) -> np.ndarray:
    """One uint32 per pixel of an (..., channels) uint8 array, channels <= 4."""
    values = np.zeros(pixels.shape[:-1], np.uint32)
    for channel in range(pixels.shape[-1]):
        values = (values << 8) | pixels[..., channel]
    return values


def unpacked(values: np.ndarray, channels: int) -> np.ndarray:
    """The (..., channels) uint8 colours of ``packed`` values."""
    shifts = np.arange(channels - 1, -1, -1, dtype=np.uint32) * 8
    return ((values[..., None] >> shifts) & 255).astype(np.uint8)


def nearest(values: np.ndarray, colours: np.ndarray, channels: int) -> np.ndarray:
    """Index into ``colours`` of the nearest one (squared distance) to each packed value."""
    wanted, where = np.unique(values, return_inverse=True)
    palette = unpacked(colours, channels).astype(np.int32)
    found = np.empty(len(wanted), np.int64)
    for start in range(0, len(wanted), _CHUNK):
        chunk = unpacked(wanted[start : start + _CHUNK], channels).astype(np.int32)
        found[start : start + _CHUNK] = ((chunk[:, None, :] - palette[None]) ** 2).sum(-1).argmin(1)
    return found[where.reshape(values.shape)]
