"""Face detectors. OpenCV is imported only when a detector is built (fast ``--help``)."""

from __future__ import annotations

from . import centerface, runtime, verify
from .anyangle import THOROUGH_SURVEY_SIDE, AnyAngleDetector
from .base import Face, FaceDetector
from .centerface import CenterFaceDetector
from .haar import HaarDetector, cascade_paths
from .model_file import checked_model, engine_error
from .passes import ThoroughDetector

__all__ = ["Face", "FaceDetector", "check_engine", "make_detector", "release_memory"]

ENGINES = ("centerface", "haar")


def check_engine(name: str) -> None:
    """Make sure the named engine can run before any work starts: its library imports and its
    model files are intact. Cheap (no network is built). Raises ModelError, whose message is
    one line with a fix, or ValueError for an unknown name."""
    if name not in ENGINES:
        raise ValueError(f"unknown face detector {name!r} (choose {' or '.join(ENGINES)})")
    cv2 = runtime.import_opencv()
    if name == "centerface":
        runtime.import_onnxruntime()
        if not hasattr(getattr(cv2, "dnn", None), "readNetFromTFLite"):  # BlazeFace's reader
            raise engine_error(f"OpenCV {cv2.__version__} cannot read BlazeFace's TFLite model",
                               "pip install 'opencv-python-headless>=4.8,<5'")
        checked_model(centerface.MODEL_PATH, centerface.MODEL_SHA256)
        checked_model(verify.MODEL_PATH, verify.MODEL_SHA256)
    else:
        cascade_paths(cv2)


def make_detector(name: str, threshold: float | None = None, thorough: bool = False) -> FaceDetector:
    """The named engine ("centerface" or "haar").

    CenterFace looks for faces at every angle (anyangle.py); ``thorough`` adds its full
    detection over the photo turned 90° and 270° and surveys the turned photo at a bigger
    size. Haar looks at upright faces; ``thorough`` adds its passes turned 90° and 270°.

    ``threshold`` None means the engine's measured default. Raises ModelError when the
    engine's model files are missing or damaged, ValueError for an unknown name.
    """
    if name == "centerface":
        engine = CenterFaceDetector(threshold)
        if thorough:
            return AnyAngleDetector(engine, THOROUGH_SURVEY_SIDE, also=ThoroughDetector(engine))
        return AnyAngleDetector(engine)
    if name != "haar":
        raise ValueError(f"unknown face detector {name!r} (choose centerface or haar)")
    detector: FaceDetector = HaarDetector(threshold)
    return ThoroughDetector(detector) if thorough else detector


def release_memory() -> None:
    """Give back the working memory detection kept for its next call (see runtime.py): call
    it when the next thing to do needs memory more than the next detection needs speed."""
    runtime.release_memory()
