"""How the camera moved between the frames faces are looked for on.

A phone pans and zooms; every face in the picture moves with it. A face found once, or not
found again for a while, is carried along with the picture instead of held where it was seen,
and a face found again far from where it was (the camera swung) still joins its own track.
The picture's motion is estimated from corners followed from one looked-at frame to the next
(pyramidal Lucas-Kanade), fitted as a shift, a zoom and a small turn with RANSAC so that
people moving on their own do not count: what most of the picture does is the camera.
"""

from __future__ import annotations

import numpy as np

#: frames are compared this wide: enough corners to follow, a millisecond or two per frame
SIDE = 320
#: corners followed per frame
CORNERS = 200
#: fewer corners followed than this (a blank wall, a dark frame): the camera is taken as still
MIN_CORNERS = 12
#: a zoom beyond this (in or out) between two frames a tenth of a second apart is no camera's:
#: an edited video's cut to another scene, whose corners fit anything. Taken as still
MOST_ZOOM = 1.25


class CameraTracker:
    """Feed it the frames faces are looked for on, in order; it gives each one's motion since
    the one before: (zoom, dx, dy) in the pixels of the frames given."""

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def step(self, rgb: np.ndarray) -> tuple[float, float, float]:
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        height, width = rgb.shape[:2]
        scale = min(1.0, SIDE / max(width, height, 1))
        small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            return 1.0, 0.0, 0.0
        zoom, dx, dy = _motion(cv2, previous, grey)
        return zoom, dx / scale, dy / scale


def _motion(cv2, previous: np.ndarray, grey: np.ndarray) -> tuple[float, float, float]:
    """(zoom, dx, dy) from ``previous`` to ``grey``, in their pixels."""
    corners = cv2.goodFeaturesToTrack(previous, CORNERS, 0.01, 6)
    if corners is None or len(corners) < MIN_CORNERS:
        return 1.0, 0.0, 0.0
    moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, grey, corners, None, winSize=(21, 21), maxLevel=3)
    kept = status.ravel() == 1
    if kept.sum() < MIN_CORNERS:
        return 1.0, 0.0, 0.0
    fit, inliers = cv2.estimateAffinePartial2D(corners[kept], moved[kept], method=cv2.RANSAC,
                                               ransacReprojThreshold=1.5)
    if fit is None or inliers is None or inliers.sum() < MIN_CORNERS:
        return 1.0, 0.0, 0.0
    zoom = float(np.hypot(fit[0, 0], fit[1, 0]))
    if not 1 / MOST_ZOOM <= zoom <= MOST_ZOOM:
        return 1.0, 0.0, 0.0
    return zoom, float(fit[0, 2]), float(fit[1, 2])
