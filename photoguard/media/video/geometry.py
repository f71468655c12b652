"""Between a frame as stored and as displayed (its display rotation applied).

Faces are found on displayed frames (the detector knows upright faces) and obscured in the
stored frames (the copy keeps the rotation as a flag, as the source did). ``rotation`` is
counter-clockwise degrees as PyAV reports it: displayed = ``numpy.rot90(stored, rotation // 90)``.
"""

from __future__ import annotations

import numpy as np

from ...parts.detect.base import Face
from ...parts.detect.passes import unrotate


def quarter_turns(rotation: int) -> int:
    return (rotation // 90) % 4


def upright(pixels: np.ndarray, rotation: int) -> np.ndarray:
    turns = quarter_turns(rotation)
    return np.ascontiguousarray(np.rot90(pixels, turns)) if turns else pixels


def to_stored(face: Face, rotation: int, stored: tuple[int, int]) -> Face:
    """A face box in displayed pixels, as a box in the stored frame of size ``stored`` (w, h)."""
    return unrotate(face, quarter_turns(rotation), stored[1], stored[0])
