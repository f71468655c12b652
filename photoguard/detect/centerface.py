"""CenterFace (ONNX, MIT licence) run through OpenCV's DNN module.

The network predicts, at stride 4, a face-centre heatmap, log box sizes, sub-pixel centre
offsets and landmarks. Input: RGB float, no mean or scaling, sides multiples of 32.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .base import Face
from .nms import nms_faces

MODEL_PATH = Path(__file__).with_name("models") / "centerface.onnx"
MODEL_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, log scale, offset, landmarks

#: measured on WIDER people and MIT+CMU with bench/eval_faces.py: 0.25 keeps false positives
#: near 0.4/image; 0.2 finds ~1% more faces for ~0.3 more false positives per image
DEFAULT_THRESHOLD = 0.25
#: longest side the image is scaled to before the network sees it: 1280 finds more small
#: faces than 1024; bigger sizes found no more and cost twice as much
WORK_SIDE = 1280
MAX_UPSCALE = 1.25
_STRIDE = 4
#: boxes thinner than this (working pixels) are heatmap noise at image borders, not faces
_MIN_SIDE = 4
_MULTIPLE = 32
#: nets kept alive, one per input shape (OpenCV fixes the shape at the first forward)
_NETS_KEPT = 4


@lru_cache(maxsize=4)
def _model_bytes(path: Path, sha256: str) -> bytes:
    """The model file, read and checked once per process."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"face model missing: {path} ({exc.strerror})", path) from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(f"face model damaged (sha256 mismatch): {path}", path)
    return data


class CenterFaceDetector:
    name = "centerface"

    def __init__(self, threshold: float | None = None, work_side: int = WORK_SIDE,
                 model_path: Path | None = None):
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.work_side = int(work_side)
        self._data = _model_bytes(Path(model_path or MODEL_PATH), MODEL_SHA256)
        self._nets: OrderedDict[tuple[int, ...], object] = OrderedDict()

    def _net(self, shape: tuple[int, ...]):
        """A net used only for this input shape: reusing one across shapes gives garbage."""
        import cv2

        net = self._nets.pop(shape, None)
        if net is None:
            net = cv2.dnn.readNetFromONNX(np.frombuffer(self._data, np.uint8))
            if len(self._nets) >= _NETS_KEPT:
                self._nets.popitem(last=False)
        self._nets[shape] = net
        return net

    def detect(self, rgb: np.ndarray) -> list[Face]:
        return self.detect_at(rgb, self.work_side)

    def detect_at(self, rgb: np.ndarray, side: int, max_upscale: float = MAX_UPSCALE,
                  threshold: float | None = None) -> list[Face]:
        """One pass with the longest side scaled to ``side`` pixels (at most ``max_upscale``)."""
        import cv2

        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        # small photos are upscaled only a little: their faces are big, and blown up past the
        # sizes the network was trained on they get lost (measured on MIT+CMU)
        f = min(side / max(h, w), max_upscale)
        nw, nh = max(1, round(w * f)), max(1, round(h * f))
        interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
        small = cv2.resize(rgb, (nw, nh), interpolation=interp) if (nw, nh) != (w, h) else rgb
        # pad (not stretch) to multiples of 32 so faces keep their aspect ratio
        ph, pw = -(-nh // _MULTIPLE) * _MULTIPLE, -(-nw // _MULTIPLE) * _MULTIPLE
        canvas = np.zeros((ph, pw, 3), np.float32)
        canvas[:nh, :nw] = small
        # the mirror image goes in the same batch; averaging the two heatmaps cuts false
        # positives more than it costs recall (measured); boxes come from the unmirrored one
        blob = np.ascontiguousarray(np.stack([canvas, canvas[:, ::-1]]).transpose(0, 3, 1, 2))
        net = self._net(blob.shape)
        net.setInput(blob)
        heat, scale, offset, _ = net.forward(list(_OUTPUTS))
        heat = (heat[:1] + heat[1:, :, :, ::-1]) / 2
        faces = _decode(heat[0, 0], scale[0], offset[0],
                        self.threshold if threshold is None else threshold, nw, nh)
        return [face.scaled(w / nw, h / nh) for face in faces]


def _decode(heat, scale, offset, threshold, width, height) -> list[Face]:
    """Boxes from the stride-4 maps, clipped to the (unpadded) image, after NMS."""
    ys, xs = np.nonzero(heat > threshold)
    if len(ys) == 0:
        return []
    bh = np.exp(scale[0, ys, xs]) * _STRIDE
    bw = np.exp(scale[1, ys, xs]) * _STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * _STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * _STRIDE
    x1 = np.clip(cx - bw / 2, 0, width)
    y1 = np.clip(cy - bh / 2, 0, height)
    x2 = np.clip(cx + bw / 2, 0, width)
    y2 = np.clip(cy + bh / 2, 0, height)
    faces = [Face((round(a), round(b), round(c - a), round(d - b)), float(s))
             for a, b, c, d, s in zip(x1, y1, x2, y2, heat[ys, xs])
             if c - a >= _MIN_SIDE and d - b >= _MIN_SIDE]
    return nms_faces(faces, 0.3)
