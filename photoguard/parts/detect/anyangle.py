"""Faces at any in-plane angle: upside down, lying sideways, tilted in between.

The engines are trained on upright faces: CenterFace finds about half of the faces of a photo
turned 90° or 180°, and fewer and fewer past a tilt of 30°. Running the whole detection again
at every angle would cost several times the upright one, so the other angles are looked at
in two steps:

1. a survey: the photo, small, turned by every multiple of 45°, one network pass each at a low
   cut. A face tilted by up to about 25° from one of those turns is seen upright in it;
2. a check: each place the survey points at (not already an upright face) is cut out turned
   upright around it, enlarged, and detected again with the mirrored pass. Only faces that
   pass the check count, so the survey's low cut costs few false positives.

A face found turned is mapped back as the box around the whole turned face (the four corners
of its upright box, turned back), so the mask covers the head, not a part of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Face, FaceDetector
from .centerface import DEFAULT_THRESHOLD

#: the survey: longest side of the photo before it is turned, the angles (degrees,
#: counter-clockwise) and the cut a place needs to be checked. Measured on the first 30
#: photos of WIDER people turned 180° and tilted -60° (bench/angles.py; recall, the upright
#: pass alone 0.324 and 0.549): 384 px 0.648 and 0.613 for 1.2x the upright detection's time
#: on a 12 MP photo; 512 px 0.683 and 0.669 for 1.7x; cuts of 0.2 and 0.35 in place of 0.3
#: and 0.45 found no more at 512
SURVEY_SIDE = 384
SURVEY_TURNS = (45, 90, 135, 180, 225, 270, 315)
SURVEY_CUT = 0.3
#: the check: the crop is CROP_CONTEXT times the surveyed face's side, seen at CROP_SIDE
#: pixels; a face found there near the crop's centre with CHECK_CUT or more counts
CROP_SIDE = 160
CROP_CONTEXT = 2.5
CHECK_CUT = 0.45
#: thorough mode surveys a bigger photo (smaller faces) at a lower cut
THOROUGH_SURVEY_SIDE = 800


@dataclass(frozen=True)
class Turn:
    """An affine map from the photo into a turned (and scaled) picture of it."""

    matrix: np.ndarray  # 2x3, photo -> turned
    size: tuple[int, int]  # the turned picture's width and height

    def back(self, points: np.ndarray) -> np.ndarray:
        """Points (N, 2) of the turned picture mapped back into the photo."""
        inverse = _invert(self.matrix)
        return points @ inverse[:, :2].T + inverse[:, 2]

    def box_back(self, box) -> tuple[int, int, int, int]:
        """The upright box around a box of the turned picture, mapped back."""
        x, y, w, h = box
        corners = self.back(np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], float))
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        return round(x0), round(y0), round(x1 - x0), round(y1 - y0)


def _invert(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def turn_whole(width: int, height: int, angle: float, scale: float) -> Turn:
    """The photo scaled by ``scale`` and turned by ``angle`` on a canvas that holds all of it."""
    radians = math.radians(angle)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    new_w = max(1, round((width * cos + height * sin) * scale))
    new_h = max(1, round((width * sin + height * cos) * scale))
    return _about((width / 2, height / 2), angle, scale, (new_w, new_h))


def turn_around(centre: tuple[float, float], angle: float, scale: float, side: int) -> Turn:
    """A ``side``-pixel square around ``centre``, scaled and turned by ``angle``."""
    return _about(centre, angle, scale, (side, side))


def _about(centre, angle: float, scale: float, size: tuple[int, int]) -> Turn:
    radians = math.radians(angle)
    a, b = scale * math.cos(radians), scale * math.sin(radians)
    # counter-clockwise on the screen (y grows downwards), the centre to the middle of size
    rotate = np.array([[a, b], [-b, a]])
    shift = np.array(size, float) / 2 - rotate @ np.array(centre, float)
    return Turn(np.hstack([rotate, shift[:, None]]), size)


def apply(rgb: np.ndarray, turn: Turn) -> np.ndarray:
    """The turned picture; outside the photo is black."""
    import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

    interpolation = cv2.INTER_AREA if abs(np.linalg.det(turn.matrix[:, :2])) < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(rgb, turn.matrix, turn.size, flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


@dataclass(frozen=True)
class _Place:
    """Where the survey saw a face: its centre and side in photo pixels, and the angle that
    turns it upright."""

    centre: tuple[float, float]
    side: float
    angle: float
    score: float


class AnyAngleDetector:
    """Wraps CenterFace: its upright detection, plus the survey of the turned photo and the
    check of each place it points at."""

    def __init__(self, inner, survey_side: int = SURVEY_SIDE, turns=SURVEY_TURNS,
                 survey_cut: float = SURVEY_CUT, check_cut: float = CHECK_CUT,
                 also: FaceDetector | None = None):
        self.inner = inner
        self.name = inner.name
        self.survey_side, self.turns = survey_side, tuple(turns)
        # a threshold asked for moves the check's cut with it
        self.survey_cut, self.check_cut = survey_cut, check_cut + inner.threshold - DEFAULT_THRESHOLD
        #: thorough mode's full passes at the quarter turns, run in place of the upright one
        self.also = also

    def detect(self, rgb: np.ndarray) -> list[Face]:
        height, width = rgb.shape[:2]
        if height == 0 or width == 0:
            return []
        faces = list((self.also or self.inner).detect(rgb))
        places = [place for place in self.survey(rgb) if not _inside_any(place.centre, faces)]
        for place in _one_per_face(places):
            face = self.check(rgb, place)
            if face is not None and not _inside_any(_centre(face.box), faces):
                faces.append(face)
        return faces

    def survey(self, rgb: np.ndarray) -> list[_Place]:
        """Places that look like faces in the small photo turned by each of the turns."""
        height, width = rgb.shape[:2]
        scale = min(1.0, self.survey_side / max(height, width))
        places = []
        for angle in self.turns:
            turn = turn_whole(width, height, angle, scale)
            turned = apply(rgb, turn)
            for face in self.inner.detect_at(turned, max(turned.shape[:2]), 1.0,
                                             threshold=self.survey_cut, mirror=False):
                x, y, w, h = face.box
                (cx, cy), = turn.back(np.array([[x + w / 2, y + h / 2]]))
                places.append(_Place((float(cx), float(cy)), max(w, h) / scale, angle, face.score))
        return places

    def check(self, rgb: np.ndarray, place: _Place) -> Face | None:
        """The face at ``place``, detected again in a crop turned upright around it, mapped back;
        None when the crop shows no face near its centre."""
        scale = CROP_SIDE / (CROP_CONTEXT * place.side)
        turn = turn_around(place.centre, place.angle, scale, CROP_SIDE)
        crop = apply(rgb, turn)
        middle = CROP_SIDE / 2
        best = None
        for face in self.inner.detect_at(crop, CROP_SIDE, 1.0, threshold=self.check_cut):
            x, y, w, h = face.box
            if abs(x + w / 2 - middle) < w / 2 + 4 and abs(y + h / 2 - middle) < h / 2 + 4:
                if best is None or face.score > best.score:
                    best = face
        if best is None:
            return None
        return Face(turn.box_back(best.box), best.score)


def _centre(box) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2


def _inside_any(point, faces: list[Face]) -> bool:
    px, py = point
    return any(x <= px <= x + w and y <= py <= y + h for x, y, w, h in (f.box for f in faces))


def _one_per_face(places: list[_Place]) -> list[_Place]:
    """The best-scored place of those the survey found for one face at neighbouring turns."""
    kept: list[_Place] = []
    for place in sorted(places, key=lambda p: -p.score):
        if not any(math.dist(place.centre, other.centre) < 0.5 * max(place.side, other.side)
                   for other in kept):
            kept.append(place)
    return kept
