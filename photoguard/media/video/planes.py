"""A decoded frame made ready for the encoder, with faces obscured in its own planes.

Faces are obscured in YUV, plane by plane (the chroma planes at their own, smaller size), so a
frame is never converted to RGB and back: only the pixels inside a face's ellipse change, and
every other pixel reaches the encoder exactly as it was decoded. The blur has no noise in a
video (see ``obscure.obscure_in_place``).
"""

from __future__ import annotations

import numpy as np

from ...parts.detect.base import Face
from ...parts.obscure import mask_box, obscure_in_place


def prepare(frame, pixel_format: str):
    """``frame`` in the encoder's pixel format and limited range, writable, timing kept."""
    if frame.format.name != pixel_format or int(frame.color_range) == 2:  # 2: full ("JPEG") range
        pts, time_base = frame.pts, frame.time_base
        frame = frame.reformat(format=pixel_format, src_color_range=int(frame.color_range) or None,
                               dst_color_range=1)
        frame.pts, frame.time_base = pts, time_base
    else:
        frame.make_writable()
    frame.pict_type = 0  # let the encoder choose frame types, not copy the source's
    return frame


def obscure_frame(frame, faces: list[Face], mode: str, mask_scale: float) -> None:
    """Obscure ``faces`` (boxes in the frame's pixels) in every plane of a writable frame."""
    if not faces:
        return
    depth = frame.format.components[0].bits
    for plane in frame.planes:
        factor_x, factor_y = plane.width / frame.width, plane.height / frame.height
        scaled = [face.scaled(factor_x, factor_y) for face in faces]
        if depth <= 8:
            pixels = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
            obscure_in_place(pixels, scaled, mode, mask_scale, noise=False)
        else:
            pixels = np.frombuffer(plane, np.uint16).reshape(plane.height, plane.line_size // 2)[:, : plane.width]
            _obscure_deep(pixels, scaled, mode, mask_scale, depth)


def _obscure_deep(pixels: np.ndarray, faces: list[Face], mode: str, mask_scale: float, depth: int) -> None:
    """Obscure in a 10- or 12-bit plane through an 8-bit copy of the faces' area: obscured
    pixels need no more precision, and the others are not written back."""
    height, width = pixels.shape
    reach = [mask_box(face, mask_scale) for face in faces]
    left = max(0, int(min(cx - rx for cx, _, rx, _ in reach)))
    top = max(0, int(min(cy - ry for _, cy, _, ry in reach)))
    right = min(width, int(np.ceil(max(cx + rx for cx, _, rx, _ in reach))) + 1)
    bottom = min(height, int(np.ceil(max(cy + ry for _, cy, _, ry in reach))) + 1)
    if right <= left or bottom <= top:
        return
    shift = depth - 8
    area = pixels[top:bottom, left:right]
    before = (area >> shift).astype(np.uint8)
    after = before.copy()
    moved = [Face((x - left, y - top, w, h), face.score) for face, (x, y, w, h) in ((f, f.box) for f in faces)]
    obscure_in_place(after, moved, mode, mask_scale, noise=False)
    changed = after != before
    area[changed] = after[changed].astype(np.uint16) << shift | (1 << (shift - 1))
