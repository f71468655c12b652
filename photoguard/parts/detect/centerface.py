"""CenterFace (ONNX, MIT licence) run through onnxruntime.

The network predicts, at stride 4, a face-centre heatmap, log box sizes, sub-pixel centre
offsets and landmarks. Input: RGB float, no mean or scaling, sides multiples of 32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import runtime
from .base import Face
from .model_file import MODELS
from .nms import drop_parts, nms_faces
from .verify import BlazeFaceVerifier

#: made by tools/convert_centerface.py from the original (dynamic input shape)
MODEL_PATH = MODELS / "centerface.onnx"
MODEL_SHA256 = "187012d9076b2787ce3bf8af5255aee294c319850ebd7af03c8b66c5d534c174"
_INPUT = "input.1"
_OUTPUTS = ["537", "538", "539"]  # heatmap, log box size, offset (landmarks unused)

#: recall first. With the passes below and the second opinion on doubtful boxes, worked out
#: offline on cached passes over WIDER people (recall / FP per image, untiled; halves of the
#: set in brackets): 0.2 -> 0.934 / 0.53, 0.22 -> 0.934 / 0.43 (0.918 / 0.49, 0.952 / 0.36),
#: 0.23 -> 0.932 / 0.43 (0.918 / 0.49, 0.949 / 0.36), 0.24 -> 0.929 / 0.39; MIT+CMU: 0.22 ->
#: 0.957 / 0.25, 0.23 -> 0.955 / 0.25. 0.22 is the highest cut at the best recall on both.
DEFAULT_THRESHOLD = 0.22
#: longest side the image is scaled to before the network sees it: 1280 finds more small
#: faces than 1024; a single bigger pass found no more at the same threshold (measured
#: untiled on WIDER people: 1600 gives 0.920 recall / 0.46 FP per image vs 0.920 / 0.41 for 1280)
WORK_SIDE = 1280
MAX_UPSCALE = 1.25
#: passes without the mirror (the coarse pass, the zoomed windows) score higher for the same
#: false positives: at 0.28 one matched the mirrored pass at 0.25 (0.928 / 0.48 on WIDER
#: people), so their scores are lowered by the difference to share one threshold
_UNMIRRORED_BIAS = 0.03
_STRIDE = 4
#: boxes thinner than this (working pixels) are heatmap noise at image borders, not faces
_MIN_SIDE = 4
_MULTIPLE = 32
#: the most pixels one forward pass sees: onnxruntime holds about 190 bytes per input pixel
#: while it runs (measured: 237 MB at 1280x960, 139 MB at 736x960), so bigger inputs are cut
#: into overlapping tiles to keep a worker under 300 MB (a 12 MP photo: 2 tiles of 736x960
#: and a 640x480 whole-image pass)
TILE_PIXELS = 750_000
#: overlap between tiles in working pixels: a face up to this size is whole in some tile
_OVERLAP = 160
#: boxes this close to a tile edge inside the image belong to faces the edge cuts
_EDGE = 2
#: whole-image pass that supplies faces bigger than _OVERLAP when the working pass was tiled.
#: Without it, tiling cost 0.027 recall on WIDER people (big faces cut by the seam)
COARSE_SIDE = 640

#: the zoomed pass for small faces. Boxes the working-size pass scored from ZOOM_FROM up to
#: the threshold, smaller than ZOOM_FACE working pixels, are looked at again ZOOM times
#: bigger, in windows of ZOOM_WINDOW working pixels around them (at most ZOOM_MAX a photo,
#: the best first); what a window finds counts when it is smaller than ZOOM_FACE and beats
#: the threshold by ZOOM_MARGIN. Measured on WIDER people at 0.23 with a margin of 0.1
#: (recall / FP per image, network megapixels per 12 MP photo): 0.932 / 0.42 at 3.1 MP, where
#: the earlier small-face pass (the whole image at 1600 px) gave 0.935 / 0.46 at 5.2 MP, both
#: passes together 0.938 / 0.52 at 5.2 MP (a run at 0.2 re-scored at 0.23), and no small-face
#: pass 0.921 / 0.36 (untiled). Worked out offline on cached windows (halves of the set
#: agreeing): what counts is the cut a zoomed face must reach, 0.30 (at 0.23, margins 0.05,
#: 0.07, 0.1, 0.15 gave 0.932, 0.932, 0.928, 0.925 recall and 0.46, 0.43, 0.41, 0.39 FP);
#: ZOOM_FACE 32 found 0.002 more than 25; 8 windows as many faces as 16 with fewer false
#: positives; ZOOM_FROM 0.05 and 0.1 the same recall, 0.1 fewer windows.
ZOOM = 2.0
ZOOM_FROM = 0.1
ZOOM_WINDOW = 96
ZOOM_MAX = 8
ZOOM_FACE = 32
ZOOM_MARGIN = 0.08

#: a box with at least this share of its area inside a bigger box is a part of that face (a
#: mouth, an eye found on its own); the bigger face's mask covers it anyway
_PART_OF_FACE = 0.7
#: boxes scoring below CONFIRM_BELOW, and at least CONFIRM_MIN_SIDE working pixels across,
#: are kept only when BlazeFace (verify.py) gives them CONFIRM_SCORE or more; smaller boxes
#: are kept as they are (too few pixels for it to judge). Most boxes in that band are not
#: faces: on WIDER people at 0.23, 47 of 62 were false positives. Measured there: 0.935 recall
#: / 0.46 FP per image with the check, 0.938 / 0.66 without it; on MIT+CMU 0.955 / 0.23 vs
#: 0.961 / 0.32. Boxes up to 0.45 asked (more true faces lost), a cut of 0.35 (0.931 / 0.44)
#: or 20 working pixels (0.936 / 0.54) were the neighbours tried.
CONFIRM_BELOW = 0.4
CONFIRM_MIN_SIDE = 16
CONFIRM_SCORE = 0.3


class CenterFaceDetector:
    name = "centerface"

    def __init__(self, threshold: float | None = None, work_side: int = WORK_SIDE,
                 model_path: Path | None = None, confirm_below: float | None = None,
                 zoom: float = ZOOM, mirror: bool = True):
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.work_side = int(work_side)
        self._session = runtime.session(Path(model_path or MODEL_PATH), MODEL_SHA256)
        #: 0 turns the second opinion off (for measuring it)
        self.confirm_below = CONFIRM_BELOW if confirm_below is None else float(confirm_below)
        self._verifier = BlazeFaceVerifier() if self.confirm_below > self.threshold else None
        #: 0 turns the zoomed pass off; these and ``mirror`` are knobs for measuring
        self.zoom = zoom
        self.zoom_from, self.zoom_window, self.zoom_max = ZOOM_FROM, ZOOM_WINDOW, ZOOM_MAX
        self.zoom_margin = ZOOM_MARGIN
        #: averaging the heatmaps of the image and its mirror image. Without it the working
        #: pass costs half (1.7 network MP per 12 MP photo instead of 3.1) but finds fewer
        #: faces at the same false positives: on WIDER people 0.923 / 0.44 per image against
        #: 0.936 / 0.43 with it (runs at 0.2 re-scored at 0.21 and 0.22, zoomed pass on)
        self.mirror = mirror

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """The working-size pass, and the zoomed pass on the small boxes it doubted."""
        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        if not self.zoom:
            return self._settled(rgb, self._working_size(rgb, self.threshold))
        f = self._work_scale(rgb)
        found = self._working_size(rgb, min(self.threshold, self.zoom_from))
        faces = [face for face in found if face.score >= self.threshold]
        faces += self._zoomed(rgb, [face for face in found
                                    if face.score < self.threshold and face.box[3] * f < ZOOM_FACE])
        return self._settled(rgb, faces)

    def detect_once(self, rgb: np.ndarray) -> list[Face]:
        """The working-size pass alone (for thorough mode's turned images)."""
        if rgb.shape[0] == 0 or rgb.shape[1] == 0:
            return []
        return self._settled(rgb, self._working_size(rgb, self.threshold))

    def _working_size(self, rgb: np.ndarray, threshold: float) -> list[Face]:
        """The pass at the working size, boxes scoring ``threshold`` or more. When it had to
        be tiled, a face bigger than the tiles' overlap may be cut by every tile; a
        whole-image pass at COARSE_SIDE, where it is big, supplies those."""
        if self.mirror:
            faces = self.detect_at(rgb, self.work_side, threshold=threshold)
        else:
            faces = self._unmirrored(rgb, self.work_side, MAX_UPSCALE, _OVERLAP, threshold)
        h, w = rgb.shape[:2]
        f = self._work_scale(rgb)
        if not _fits(round(w * f), round(h * f)):
            faces += [face for face in self._unmirrored(rgb, COARSE_SIDE, MAX_UPSCALE, _OVERLAP, self.threshold)
                      if min(face.box[2:]) * f >= _OVERLAP / 2]
        return faces

    def _zoomed(self, rgb: np.ndarray, candidates: list[Face]) -> list[Face]:
        """Small faces in windows around ``candidates``, seen ZOOM times bigger than the
        working-size pass saw them."""
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        h, w = rgb.shape[:2]
        f = self._work_scale(rgb)
        side = self.zoom_window / f  # the window's side in image pixels
        margin = ZOOM_FACE / f  # a window covers the candidates this far inside its edges
        windows: list[tuple[int, int, int, int]] = []
        for face in sorted(candidates, key=lambda face: -face.score):
            x, y, bw, bh = face.box
            cx, cy = x + bw / 2, y + bh / 2
            if any(wx + margin <= cx <= wx + ww - margin and wy + margin <= cy <= wy + wh - margin
                   for wx, wy, ww, wh in windows):
                continue
            x0, y0 = int(max(0, min(cx - side / 2, w - side))), int(max(0, min(cy - side / 2, h - side)))
            windows.append((x0, y0, min(w, round(side)), min(h, round(side))))
            if len(windows) == self.zoom_max:
                break
        found = []
        z = f * self.zoom
        for x0, y0, ww, wh in windows:
            nw, nh = max(1, round(ww * z)), max(1, round(wh * z))
            crop = cv2.resize(rgb[y0:y0 + wh, x0:x0 + ww], (nw, nh),
                              interpolation=cv2.INTER_AREA if z < 1 else cv2.INTER_LINEAR)
            inner = (x0 > 0, y0 > 0, x0 + ww < w, y0 + wh < h)
            cut = self.threshold + self.zoom_margin + _UNMIRRORED_BIAS
            for face in _forward(self._session, crop, cut, False):
                if _touches(face.box, nw, nh, inner):
                    continue
                bx, by, bw, bh = face.box
                face = Face((round(x0 + bx / z), round(y0 + by / z), round(bw / z), round(bh / z)),
                            face.score - _UNMIRRORED_BIAS)
                if face.box[3] * f < ZOOM_FACE and min(face.box[2:]) * f >= _MIN_SIDE / self.zoom:
                    found.append(face)
        return found

    def _settled(self, rgb: np.ndarray, faces: list[Face]) -> list[Face]:
        """The passes merged, parts of faces dropped, doubtful boxes put to the verifier."""
        faces = drop_parts(nms_faces(faces, 0.3), _PART_OF_FACE)
        if self._verifier is None:
            return faces
        f = self._work_scale(rgb)
        return [face for face in faces
                if face.score >= self.confirm_below or min(face.box[2:]) * f < CONFIRM_MIN_SIDE
                or self._verifier.score(rgb, face.box) >= CONFIRM_SCORE]

    def _work_scale(self, rgb: np.ndarray) -> float:
        """The first pass's scale: a box's side times this is its size in working pixels."""
        return _factor(*rgb.shape[:2], self.work_side, MAX_UPSCALE)

    def _unmirrored(self, rgb: np.ndarray, side: int, max_upscale: float, overlap: int,
                    threshold: float) -> list[Face]:
        """A pass without the mirror, its scores lowered by _UNMIRRORED_BIAS to share the threshold."""
        found = self.detect_at(rgb, side, max_upscale, threshold + _UNMIRRORED_BIAS,
                               mirror=False, overlap=overlap)
        return [Face(face.box, face.score - _UNMIRRORED_BIAS) for face in found]

    def detect_at(self, rgb: np.ndarray, side: int, max_upscale: float = MAX_UPSCALE,
                  threshold: float | None = None, mirror: bool = True,
                  overlap: int = _OVERLAP) -> list[Face]:
        """One pass with the longest side scaled to ``side`` pixels (at most ``max_upscale``),
        in overlapping tiles when the scaled image is bigger than TILE_PIXELS."""
        import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        # small photos are upscaled only a little: their faces are big, and blown up past the
        # sizes the network was trained on they get lost (measured on MIT+CMU)
        f = _factor(h, w, side, max_upscale)
        nw, nh = max(1, round(w * f)), max(1, round(h * f))
        interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
        small = cv2.resize(rgb, (nw, nh), interpolation=interp) if (nw, nh) != (w, h) else rgb
        threshold = self.threshold if threshold is None else threshold
        faces = []
        for x0, y0, tw, th in tiles(nw, nh, overlap):
            found = _forward(self._session, small[y0:y0 + th, x0:x0 + tw], threshold, mirror)
            # a box reaching a tile edge inside the image is a face cut by the tile: it is
            # whole in the neighbouring tile when smaller than the overlap
            inner = (x0 > 0, y0 > 0, x0 + tw < nw, y0 + th < nh)
            for face in found:
                if not _touches(face.box, tw, th, inner):
                    x, y, bw, bh = face.box
                    faces.append(Face((x + x0, y + y0, bw, bh), face.score))
        faces = nms_faces(faces, 0.3)
        return [face.scaled(w / nw, h / nh) for face in faces]


def _forward(session, tile: np.ndarray, threshold: float, mirror: bool) -> list[Face]:
    """Faces in one tile (RGB uint8), in its pixels."""
    th, tw = tile.shape[:2]
    # pad (not stretch) to multiples of 32 so faces keep their aspect ratio
    blob = np.zeros((1, 3, _up32(th), _up32(tw)), np.float32)
    blob[0, :, :th, :tw] = tile.transpose(2, 0, 1)
    # averaging the heatmaps of the image and its mirror image cuts false positives more
    # than it costs recall (measured); boxes come from the unmirrored one. The two go
    # through one after the other, not as a batch of two: half the memory, same time
    heat, scale, offset = session.run(_OUTPUTS, {_INPUT: blob})
    if mirror:
        mirrored = session.run(_OUTPUTS[:1], {_INPUT: np.ascontiguousarray(blob[:, :, :, ::-1])})[0]
        heat = (heat + mirrored[:, :, :, ::-1]) / 2
    return _decode(heat[0, 0], scale[0], offset[0], threshold, tw, th)


def _factor(height: int, width: int, side: int, max_upscale: float) -> float:
    """The scale that brings the longest side to ``side``, upscaling by at most ``max_upscale``."""
    return min(side / max(height, width), max_upscale)


def _up32(n: int) -> int:
    return -(-n // _MULTIPLE) * _MULTIPLE


def _fits(width: int, height: int) -> bool:
    return _up32(width) * _up32(height) <= TILE_PIXELS


def tiles(width: int, height: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of the fewest-pixel grid of tiles, each within TILE_PIXELS once padded,
    neighbours overlapping by at least ``overlap``; one tile when the image fits."""
    if _fits(width, height):
        return [(0, 0, width, height)]

    def side(length: int, count: int) -> int:
        # a multiple of 32, so no tile but a whole-image one needs padding
        return min(length, _up32(-(-(length + (count - 1) * overlap) // count)))

    best = None
    for nx in range(1, 9):
        for ny in range(1, 9):
            tw, th = side(width, nx), side(height, ny)
            if _fits(tw, th) and (best is None or nx * ny * tw * th < best[0]):
                best = (nx * ny * tw * th, nx, ny, tw, th)
    _, nx, ny, tw, th = best
    xs = np.linspace(0, width - tw, nx).round().astype(int)
    ys = np.linspace(0, height - th, ny).round().astype(int)
    return [(int(x), int(y), tw, th) for y in ys for x in xs]


def _touches(box, width: int, height: int, inner: tuple[bool, bool, bool, bool]) -> bool:
    """True when ``box`` reaches a tile edge that lies inside the image (left, top, right, bottom)."""
    x, y, w, h = box
    return ((inner[0] and x <= _EDGE) or (inner[1] and y <= _EDGE)
            or (inner[2] and x + w >= width - _EDGE) or (inner[3] and y + h >= height - _EDGE))


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
