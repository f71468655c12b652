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

#: recall first. Measured through `photoguard scan --json` on WIDER people (recall / false
#: positives per image): 0.23 -> 0.934 / 0.61, 0.24 -> 0.931 / 0.55, 0.25 -> 0.929 / 0.49;
#: MIT+CMU: 0.23 -> 0.961 / 0.32, 0.24 -> 0.959 / 0.28. 0.24 is the lowest cut that keeps
#: MIT+CMU under 0.3 false positives; many WIDER "false positives" are unannotated faces.
DEFAULT_THRESHOLD = 0.24
#: longest side the image is scaled to before the network sees it: 1280 finds more small
#: faces than 1024; a single bigger pass found no more at the same threshold (measured on
#: WIDER people: 1600 gives 0.920 recall / 0.46 FP per image vs 0.920 / 0.41 for 1280)
WORK_SIDE = 1280
MAX_UPSCALE = 1.25
#: second pass for small faces: the image at 1600 px (upscaled up to 1.6x), keeping only boxes
#: smaller than SMALL_FACE px as the first pass sees them. Measured on WIDER people with the
#: threshold 0.25: 0.928 recall / 0.48 FP per image vs 0.920 / 0.41 for the first pass alone;
#: lowering the first pass's threshold buys less (0.2: 0.928 / 0.69).
#: Limits of 16, 20 and 25 px in a 1024-px photo scored 0.927 / 0.44, 0.928 / 0.48 and
#: 0.928 / 0.52; 20 px there is 25 px at the first pass's 1.25x.
SMALL_SIDE = 1600
SMALL_MAX_UPSCALE = 1.6
SMALL_FACE = 25
#: the small-face pass runs without the mirror (half its cost). Unmirrored scores run higher
#: for the same false positives: at 0.28 it matched the mirrored pass at 0.25 (0.928 / 0.48
#: on WIDER people), so its scores are lowered by the difference to share one threshold
_UNMIRRORED_BIAS = 0.03
_STRIDE = 4
#: boxes thinner than this (working pixels) are heatmap noise at image borders, not faces
_MIN_SIDE = 4
_MULTIPLE = 32
#: nets kept alive, one per input shape (OpenCV fixes the shape at the first forward). Each
#: holds its activations (300-500 MB at the working sizes), so only one is kept: building
#: another costs ~15 ms, keeping two doubled a worker's peak memory (measured 1.1 GB)
_NETS_KEPT = 1


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
                 model_path: Path | None = None, small_side: int | None = SMALL_SIDE):
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.work_side = int(work_side)
        #: None or 0 turns the small-face pass off
        self.small_side = small_side
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
        """The working-size pass plus a bigger pass that only contributes small faces."""
        faces = self.detect_once(rgb)
        h, w = rgb.shape[:2]
        if not self.small_side or h == 0 or w == 0:
            return faces
        # the first pass's scale, to measure "small" the way that pass saw the face
        f = min(self.work_side / max(h, w), MAX_UPSCALE)
        # boxes the first pass would call noise (thinner than _MIN_SIDE) are dropped too:
        # blown up 1.6x, a tiny or blank image otherwise yields a sliver
        found = self.detect_at(rgb, self.small_side, SMALL_MAX_UPSCALE,
                               self.threshold + _UNMIRRORED_BIAS, mirror=False)
        small = [Face(face.box, face.score - _UNMIRRORED_BIAS) for face in found
                 if _MIN_SIDE <= min(face.box[2:]) * f and face.box[3] * f < SMALL_FACE]
        return nms_faces(faces + small, 0.3) if small else faces

    def detect_once(self, rgb: np.ndarray) -> list[Face]:
        """One pass at the working size (thorough mode's tiles already see small faces big)."""
        return self.detect_at(rgb, self.work_side)

    def detect_at(self, rgb: np.ndarray, side: int, max_upscale: float = MAX_UPSCALE,
                  threshold: float | None = None, mirror: bool = True) -> list[Face]:
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
        # averaging the heatmaps of the image and its mirror image cuts false positives more
        # than it costs recall (measured); boxes come from the unmirrored one. The two go
        # through one after the other, not as a batch of two: half the memory, same time
        blob = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None])
        net = self._net(blob.shape)
        net.setInput(blob)
        heat, scale, offset, _ = (output.copy() for output in net.forward(list(_OUTPUTS)))
        if mirror:
            net.setInput(np.ascontiguousarray(blob[:, :, :, ::-1]))
            # all outputs again: after a forward of all four, OpenCV computes a lone output
            # wrongly (measured: heatmap off by up to 0.66)
            heat = (heat + net.forward(list(_OUTPUTS))[0][:, :, :, ::-1]) / 2
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
