"""What every face detector returns, and the interface it implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Face:
    #: x, y, width, height in pixels of the image that was passed to ``detect``
    box: tuple[int, int, int, int]
    score: float

    def scaled(self, factor_x: float, factor_y: float) -> "Face":
        x, y, w, h = self.box
        return Face(
            (round(x * factor_x), round(y * factor_y), round(w * factor_x), round(h * factor_y)),
            self.score,
        )


def iou(a, b) -> float:
    """Intersection over union of two (x, y, width, height) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (aw * ah + bw * bh - inter)


class FaceDetector(Protocol):
    name: str

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 array of shape (height, width, 3)."""
        ...
