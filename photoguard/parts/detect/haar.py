"""OpenCV's bundled Haar cascades: a model-free fallback, weaker than CenterFace.

Frontal cascades plus the profile cascade on the image and on its mirror (the profile
cascade only knows faces looking one way), on a locally equalised grey copy, merged with NMS.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...errors import ModelError
from .base import Face
from .model_file import engine_error
from .nms import nms_indices

CASCADES = (
    "haarcascade_frontalface_default.xml",
    "haarcascade_frontalface_alt2.xml",
    "haarcascade_profileface.xml",
)
_PROFILE = "haarcascade_profileface.xml"

#: Haar has no probability. A face's score is 1 - exp(-votes / _VOTE_SCALE) where votes are
#: the neighbour counts summed over every cascade (and mirror) that found it: a face seen by
#: several cascades is more likely real. Threshold 0.6 ~ 5 votes, 0.68 ~ 6.3, 0.7 ~ 7.
_VOTE_SCALE = 5.5
#: the budget is 1.0 false positive per image at recall 0.60 or more, and a held-out twin of
#: WIDER people gave 0.609 / 1.10 at 0.68: FP there run ~1.3x the dev set's. Measured on WIDER
#: people with the settings below (recall / FP per image; even / odd halves in name order):
#: 0.66 -> 0.619 / 1.01 (0.629 / 0.89, 0.607 / 1.12), 0.68 -> 0.612 / 0.86 (0.626 / 0.75,
#: 0.595 / 0.96), 0.71 -> 0.612 / 0.77 (0.626 / 0.68, 0.595 / 0.86), 0.72 -> 0.607 / 0.70
#: (0.619 / 0.63, 0.592 / 0.76), 0.75 -> 0.605 / 0.62. 0.71 is the highest cut that loses no
#: recall on either half (0.09 fewer false positives per image than 0.68)
DEFAULT_THRESHOLD = 0.71
#: the default frontal cascade fires on most textures: its neighbours count for less. On 64
#: WIDER people photos it brought 0.03 of the recall but 0.75 of the 1.05 FP per image; on all
#: 145, weight 0.6 and 4.5 votes gave 0.590 / 0.92 vs 0.589 / 1.12 for plain counts, 6 votes.
_VOTE_WEIGHT = {"haarcascade_frontalface_default.xml": 0.6}
#: local (CLAHE) rather than global equalisation: on 89 WIDER photos side by side, +0.006
#: recall at the same votes and ~25% less time (fewer windows survive the early stages).
#: An extra 2x-upscaled pass for faces under 20 px found none more (they are too blurred)
_CLAHE_CLIP, _CLAHE_TILES = 2.0, (8, 8)
#: longer side the grey image is scaled to, upscaling by at most MAX_UPSCALE: the cascades'
#: smallest windows are 20-24 px, so a 1.25x view finds faces of 16-20 px. With 2 neighbours
#: (instead of 3) and the cut above: 0.613 recall / 0.85 FP per image on WIDER people, vs
#: 0.592 / 0.96 at 1024 px, 3 neighbours and the cut 0.56. Costs ~1.5x the time
WORK_SIDE = 1280
MAX_UPSCALE = 1.25
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 2
MIN_SIZE = 20


def cascade_paths(cv2) -> list[Path]:
    """The cascade files OpenCV ships, in CASCADES order; ModelError if one is missing."""
    paths = [Path(cv2.data.haarcascades) / name for name in CASCADES]
    for path in paths:
        if not path.is_file():
            raise engine_error(f"OpenCV's Haar cascade is missing: {path}",
                               "pip install --force-reinstall 'opencv-python-headless<5'", path)
    return paths


def votes_to_score(votes: float) -> float:
    return 1.0 - math.exp(-votes / _VOTE_SCALE)


class HaarDetector:
    name = "haar"

    def __init__(self, threshold: float | None = None, work_side: int = WORK_SIDE):
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.work_side = int(work_side)
        self._cascades = {}
        for path in cascade_paths(cv2):
            cascade = cv2.CascadeClassifier(str(path))
            if cascade.empty():
                raise ModelError(f"OpenCV Haar cascade unreadable: {path}", path)
            self._cascades[path.name] = cascade

    def detect(self, rgb: np.ndarray) -> list[Face]:
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        f = min(MAX_UPSCALE, self.work_side / max(h, w))
        grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        if abs(f - 1) > 0.01:
            interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
            grey = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=interp)
        grey = cv2.createCLAHE(_CLAHE_CLIP, _CLAHE_TILES).apply(grey)
        gw = grey.shape[1]
        boxes, votes = [], []
        for name, cascade in self._cascades.items():
            views = [(grey, False)] + ([(cv2.flip(grey, 1), True)] if name == _PROFILE else [])
            for image, mirrored in views:
                rects, counts = cascade.detectMultiScale2(
                    image, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBOURS,
                    minSize=(MIN_SIZE, MIN_SIZE))
                for (x, y, bw, bh), n in zip(np.reshape(rects, (-1, 4)), np.ravel(counts)):
                    boxes.append((int(gw - x - bw if mirrored else x), int(y), int(bw), int(bh)))
                    votes.append(_VOTE_WEIGHT.get(name, 1.0) * int(n))
        if not boxes:
            return []
        arr, votes = np.array(boxes, float), np.array(votes, float)
        faces = []
        for i in nms_indices(arr, votes, 0.3, 0.8):
            score = votes_to_score(float(votes[_overlapping(arr, i)].sum()))
            if score >= self.threshold:
                faces.append(Face(boxes[i], score))
        sx, sy = w / grey.shape[1], h / grey.shape[0]
        return [face.scaled(sx, sy) for face in sorted(faces, key=lambda f: -f.score)]


def _overlapping(boxes: np.ndarray, i: int, iou_threshold: float = 0.3) -> np.ndarray:
    """Mask of the boxes (box i included) that overlap box i: the same face."""
    x1, y1 = np.maximum(boxes[:, 0], boxes[i, 0]), np.maximum(boxes[:, 1], boxes[i, 1])
    x2 = np.minimum(boxes[:, 0] + boxes[:, 2], boxes[i, 0] + boxes[i, 2])
    y2 = np.minimum(boxes[:, 1] + boxes[:, 3], boxes[i, 1] + boxes[i, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = boxes[:, 2] * boxes[:, 3]
    return inter / np.maximum(area + area[i] - inter, 1e-9) >= iou_threshold
