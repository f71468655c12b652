"""Thorough mode: the engine's own passes plus passes over the image turned 90° and 270°,
merged with NMS. They find faces lying sideways (babies, photos taken sideways whose
orientation tag was lost), which the engines, trained on upright faces, mostly miss.

Earlier versions also ran the engine on four overlapping tiles enlarged to the working size,
for small faces in group photos: 2.3 times the default's network work per 12 MP photo. The
default's zoomed small-face pass (centerface.ZOOM) now looks at those faces, so thorough keeps
its budget for the turned passes.
"""

from __future__ import annotations

import numpy as np

from .base import Face, FaceDetector
from .nms import nms_faces

#: merging: boxes mostly inside a better box are pieces of the same face
_MERGE_IOU = 0.3
_MERGE_CONTAIN = 0.7


def unrotate(face: Face, k: int, height: int, width: int) -> Face:
    """A box found in ``np.rot90(image, k)`` (k = 0 to 3) mapped back to the image, which is
    ``height`` by ``width``."""
    x, y, w, h = face.box
    if k == 0:
        box = (x, y, w, h)
    elif k == 1:  # rot90 counter-clockwise: rotated (x, y) came from (width - 1 - y, x)
        box = (width - (y + h), x, h, w)
    elif k == 2:  # upside down
        box = (width - (x + w), height - (y + h), w, h)
    elif k == 3:  # clockwise: rotated (x, y) came from (y, height - 1 - x)
        box = (y, height - (x + w), h, w)
    else:
        raise ValueError(f"unsupported rotation {k}")
    return Face(box, face.score)


class ThoroughDetector:
    """Wraps an engine: its full detection, plus the 90° and 270° turns, merged."""

    def __init__(self, inner: FaceDetector):
        self.inner = inner
        self.name = inner.name

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        faces = list(self.inner.detect(rgb))
        # the turns get one pass each at the working size: an engine's extra small-face
        # passes would double their cost
        once = getattr(self.inner, "detect_once", self.inner.detect)
        for k in (1, 3):
            rotated = np.ascontiguousarray(np.rot90(rgb, k))
            faces += [unrotate(f, k, h, w) for f in once(rotated)]
        return nms_faces(faces, _MERGE_IOU, _MERGE_CONTAIN)
