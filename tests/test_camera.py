"""How the camera moved between two frames: a pan and a zoom, seen past people moving on their own."""

from __future__ import annotations

import numpy as np
import pytest

from photoguard.media.video.camera import CameraTracker


def scene(width: int = 1600, height: int = 900) -> np.ndarray:
    """A wide picture with corners to follow: blocks of random greys, smoothed a little."""
    import cv2

    blocks = np.random.default_rng(7).integers(0, 256, (height // 12, width // 12), dtype=np.uint8)
    grey = cv2.GaussianBlur(cv2.resize(blocks, (width, height), interpolation=cv2.INTER_NEAREST), (0, 0), 1.5)
    return np.repeat(grey[..., None], 3, axis=2)


def view(picture: np.ndarray, left: float, top: float, zoom: float = 1.0, size=(640, 360)) -> np.ndarray:
    """What a 640x360 camera sees of ``picture`` with its top left corner at (left, top),
    magnified ``zoom`` times."""
    import cv2

    affine = np.array([[zoom, 0, -left * zoom], [0, zoom, -top * zoom]], np.float32)
    return cv2.warpAffine(picture, affine, size, flags=cv2.INTER_LINEAR)


@pytest.mark.parametrize("dx, dy, zoom", [(12.0, -5.0, 1.0), (-30.0, 8.0, 1.0), (0.0, 0.0, 1.06)])
def test_a_pan_and_a_zoom_are_measured(dx, dy, zoom):
    picture = scene()
    tracker = CameraTracker()
    assert tracker.step(view(picture, 400, 200)) == (1.0, 0.0, 0.0)  # the first frame: nothing yet
    # the camera moves by (-dx, -dy) and zooms about its corner: the picture moves by (dx, dy)
    z, x, y = tracker.step(view(picture, 400 - dx, 200 - dy, zoom))
    # a point p of the first frame is at zoom * p + shift in the second
    assert z == pytest.approx(zoom, abs=0.01)
    assert x == pytest.approx((400 - (400 - dx)) * zoom, abs=1.5)
    assert y == pytest.approx((200 - (200 - dy)) * zoom, abs=1.5)


def test_someone_walking_past_does_not_move_the_camera():
    picture = scene()
    tracker = CameraTracker()
    first = view(picture, 400, 200)
    tracker.step(first)
    second = first.copy()
    second[100:260, 200:320] = first[100:260, 170:290]  # a person-sized patch moves 30 px right
    z, x, y = tracker.step(second)
    assert (z, x, y) == pytest.approx((1.0, 0.0, 0.0), abs=0.5)


def test_a_blank_frame_is_a_still_camera():
    tracker = CameraTracker()
    tracker.step(np.full((360, 640, 3), 90, np.uint8))
    assert tracker.step(np.full((360, 640, 3), 90, np.uint8)) == (1.0, 0.0, 0.0)


def test_a_zoom_no_camera_makes_between_two_looks_is_a_still_camera():
    """1.4 times closer a tenth of a second later is an edit's cut to another shot, not the
    camera: faces are not carried by it."""
    picture = scene()
    tracker = CameraTracker()
    tracker.step(view(picture, 400, 200))
    assert tracker.step(view(picture, 400, 200, zoom=1.4)) == (1.0, 0.0, 0.0)
