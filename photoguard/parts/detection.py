"""Detection in a process: the face detector it shares, the cores it runs on, and the faces
of one picture.

A worker cleans many files: it builds the detector for a set of options once, not once per
file (``get_detector``), and runs OpenCV (and a video's codecs, which follow it) and
onnxruntime on its share of the cores (``use_cores``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..options import Options
from . import picture
from .detect import make_detector, release_memory, runtime
from .detect.base import Face

#: JPEGs are decoded at reduced size for detection, but not below this many pixels on the short side
DETECTION_MIN_SIDE = 1024

_detectors: dict = {}


def get_detector(options: Options):
    """The detector for these options, built once per process rather than once per photo."""
    key = (options.detector, options.threshold, options.thorough)
    if key not in _detectors:
        _detectors[key] = make_detector(*key)
    return _detectors[key]


def find_faces(data: bytes, src: Path, options: Options, displayed: tuple[int, int]) -> list[Face]:
    """Faces in displayed (orientation-applied) pixel coordinates of the full image."""
    reduced = picture.for_detection(data, src, options.max_pixels, DETECTION_MIN_SIDE)
    faces = get_detector(options).detect(np.asarray(reduced))
    release_memory()  # decoding and encoding the full image come next and need that memory
    factor_x, factor_y = displayed[0] / reduced.width, displayed[1] / reduced.height
    return [face.scaled(factor_x, factor_y) for face in faces]


_cores_set = 0


def use_cores(cores: int) -> None:
    """-j N means N cores: each worker runs OpenCV (and a video's codecs, which follow it) and
    onnxruntime on its share of them, so none fight for a core."""
    global _cores_set
    if cores != _cores_set:
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        cv2.setNumThreads(cores)
        runtime.use_threads(cores)
        _cores_set = cores
