"""Face detectors. OpenCV is imported only when a detector is built (fast ``--help``)."""

from __future__ import annotations

from .base import Face, FaceDetector

__all__ = ["Face", "FaceDetector", "make_detector"]


def make_detector(name: str, threshold: float | None = None, thorough: bool = False) -> FaceDetector:
    """The named engine ("centerface" or "haar"); ``thorough`` adds tiled and rotated passes.

    ``threshold`` None means the engine's measured default. Raises ModelError when the
    engine's model files are missing or damaged, ValueError for an unknown name.
    """
    if name == "centerface":
        from .centerface import CenterFaceDetector

        detector: FaceDetector = CenterFaceDetector(threshold)
    elif name == "haar":
        from .haar import HaarDetector

        detector = HaarDetector(threshold)
    else:
        raise ValueError(f"unknown face detector {name!r} (choose centerface or haar)")
    if thorough:
        from .passes import ThoroughDetector

        detector = ThoroughDetector(detector)
    return detector
