"""A second opinion on doubtful faces: BlazeFace, MediaPipe's short-range face detector
(Apache 2.0), run through OpenCV's DNN module on a crop around one candidate box.

CenterFace's low scores mix real faces with backs of heads, hands and textures. A model
trained on other data makes other mistakes, so a low-score box that BlazeFace does not see
as a face at that place is most often not one (measured: see centerface.CONFIRM_SCORE).
BlazeFace was trained on faces that fill much of a phone's frame, so the crop around a small
face is enlarged to its 128-pixel input. It knows upright faces: the thorough mode's turned
passes ask it about the turned image, where sideways faces stand upright.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .model_file import MODELS, read_model

MODEL_PATH = MODELS / "blazeface_short_range.tflite"
MODEL_SHA256 = "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"
_SIZE = 128
#: the crop is this many times the box's longer side, centred on it: the face with its
#: surroundings (measured on WIDER people at the same cut: 1.5x and 2x kept more false
#: positives, 0.55 and 0.48 per image against 0.46)
CROP = 2.5
#: a prediction counts for the candidate when its box overlaps the candidate's this much
_MATCH_IOU = 0.3


def _anchor_centres() -> np.ndarray:
    """(896, 2) anchor centres in input units: 2 per cell of a 16x16 grid, then 6 per cell of
    an 8x8 grid (MediaPipe's anchor layout for this model, strides 8, 16, 16, 16)."""
    grids = []
    for cells, per_cell in ((16, 2), (8, 6)):
        centres = (np.arange(cells) + 0.5) / cells
        cx, cy = np.meshgrid(centres, centres)
        grids.append(np.repeat(np.stack([cx.ravel(), cy.ravel()], 1), per_cell, axis=0))
    return np.concatenate(grids)


class BlazeFaceVerifier:
    def __init__(self, model_path: Path | None = None):
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        data = read_model(Path(model_path or MODEL_PATH), MODEL_SHA256)
        # one input shape for every call, so one net serves them all
        self._net = cv2.dnn.readNetFromTFLite(np.frombuffer(data, np.uint8))
        self._anchors = _anchor_centres()

    def score(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
        """How sure BlazeFace is (0 to 1) that ``box`` in the RGB image holds a face."""
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        x, y, w, h = box
        side = max(1, round(CROP * max(w, h)))
        left, top = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
        # black beyond the image border, so the face keeps its place in the crop
        crop = np.zeros((side, side, 3), np.uint8)
        height, width = rgb.shape[:2]
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + side, width), min(top + side, height)
        if x1 <= x0 or y1 <= y0:
            return 0.0
        crop[y0 - top:y1 - top, x0 - left:x1 - left] = rgb[y0:y1, x0:x1]
        interp = cv2.INTER_AREA if side > _SIZE else cv2.INTER_LINEAR
        blob = cv2.dnn.blobFromImage(cv2.resize(crop, (_SIZE, _SIZE), interpolation=interp),
                                     1 / 127.5, mean=(127.5, 127.5, 127.5))
        self._net.setInput(blob)
        logits, regress = (out.reshape(len(self._anchors), -1)
                           for out in self._net.forward(["classificators", "regressors"]))
        # predicted boxes, as fractions of the crop: centre offsets and sizes in input pixels
        centre = self._anchors + regress[:, :2] / _SIZE
        size = regress[:, 2:4] / _SIZE
        want = np.array([x - left, y - top, w, h], float) / side
        lo = np.maximum(centre - size / 2, want[:2])
        hi = np.minimum(centre + size / 2, want[:2] + want[2:])
        inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
        iou = inter / np.maximum(np.prod(size, axis=1) + want[2] * want[3] - inter, 1e-9)
        matched = logits[iou >= _MATCH_IOU, 0]
        if matched.size == 0:
            return 0.0
        return float(1 / (1 + np.exp(-np.clip(matched.max(), -50, 50))))
