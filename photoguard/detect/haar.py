"""OpenCV's bundled Haar cascades: a model-free fallback, weaker than CenterFace.

Frontal cascades plus the profile cascade on the image and on its mirror (the profile
cascade only knows faces looking one way), on an equalised grey copy, merged with NMS.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .base import Face
from .nms import nms_faces

CASCADES = (
    "haarcascade_frontalface_default.xml",
    "haarcascade_frontalface_alt2.xml",
    "haarcascade_profileface.xml",
)
_PROFILE = "haarcascade_profileface.xml"

#: Haar has no probability: the score is 1 - exp(-neighbours / _NEIGHBOUR_SCALE), so a
#: threshold picks how many overlapping raw hits a face needs (0.5 ~ 4, 0.6 ~ 5 neighbours)
_NEIGHBOUR_SCALE = 5.5
DEFAULT_THRESHOLD = 0.5
#: longest side the grey image is scaled to (down or up): small faces need pixels
WORK_SIDE = 1024
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 3
MIN_SIZE = 20


def neighbours_to_score(n: int) -> float:
    return 1.0 - math.exp(-n / _NEIGHBOUR_SCALE)


class HaarDetector:
    name = "haar"

    def __init__(self, threshold: float | None = None, work_side: int = WORK_SIDE):
        import cv2

        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.work_side = int(work_side)
        self._cascades = {}
        for name in CASCADES:
            path = Path(cv2.data.haarcascades) / name
            cascade = cv2.CascadeClassifier(str(path)) if path.is_file() else None
            if cascade is None or cascade.empty():
                raise ModelError(f"OpenCV Haar cascade missing or unreadable: {path}", path)
            self._cascades[name] = cascade

    def detect(self, rgb: np.ndarray) -> list[Face]:
        import cv2

        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        f = self.work_side / max(h, w)
        grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        if abs(f - 1) > 0.01:
            interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
            grey = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=interp)
        grey = cv2.equalizeHist(grey)
        gw = grey.shape[1]
        faces: list[Face] = []
        for name, cascade in self._cascades.items():
            views = [(grey, False)] + ([(cv2.flip(grey, 1), True)] if name == _PROFILE else [])
            for image, mirrored in views:
                rects, counts = cascade.detectMultiScale2(
                    image, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBOURS,
                    minSize=(MIN_SIZE, MIN_SIZE))
                for (x, y, bw, bh), n in zip(np.reshape(rects, (-1, 4)), np.ravel(counts)):
                    score = neighbours_to_score(int(n))
                    if score >= self.threshold:
                        x = gw - x - bw if mirrored else x
                        faces.append(Face((int(x), int(y), int(bw), int(bh)), score))
        sx, sy = w / grey.shape[1], h / grey.shape[0]
        return [face.scaled(sx, sy) for face in nms_faces(faces, 0.3, 0.8)]
