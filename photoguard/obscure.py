"""Obscuring faces: pure functions from pixels + boxes + mode to new pixels.

Only pixels inside a face's ellipse change; everything outside every ellipse is left
bit for bit as it was. Each mode destroys detail by construction (the face is reduced to a
few blocks, then noise is added) rather than by a blur strong enough only to look hidden.
"""

from __future__ import annotations

import numpy as np

from .detect.base import Face

#: the blurred face keeps about this many samples across the face width, no more
BLUR_SAMPLES_ACROSS_FACE = 4
#: pixelate: blocks are at least this fraction of the face width
PIXELATE_BLOCK_FRACTION = 1 / 6
#: width of the soft edge, as a fraction of the ellipse radius (inside the ellipse)
FEATHER = 0.15
NOISE_LEVEL = 6.0
FILL_VALUE = 128


def mask_box(face: Face, mask_scale: float) -> tuple[float, float, float, float]:
    """Centre and half-axes of the ellipse that covers a face, hair and ears."""
    x, y, w, h = face.box
    return x + w / 2, y + h / 2, w * mask_scale / 2, h * mask_scale / 2


def obscure(pixels: np.ndarray, faces: list[Face], mode: str, mask_scale: float) -> np.ndarray:
    """A copy of ``pixels`` (H x W or H x W x C, uint8) with every face obscured."""
    import cv2

    out = pixels.copy()
    height, width = pixels.shape[:2]
    for face in faces:
        cx, cy, rx, ry = mask_box(face, mask_scale)
        if rx < 0.5 or ry < 0.5:
            continue
        left, top = max(0, int(np.floor(cx - rx))), max(0, int(np.floor(cy - ry)))
        right, bottom = min(width, int(np.ceil(cx + rx))), min(height, int(np.ceil(cy + ry)))
        if right <= left or bottom <= top:
            continue
        region = out[top:bottom, left:right]
        alpha = _ellipse_alpha(left, top, right, bottom, cx, cy, rx, ry)
        hidden = _hide(cv2, region, face, mode)
        if region.ndim == 3:
            alpha = alpha[:, :, None]
        blended = region.astype(np.float32) * (1 - alpha) + hidden.astype(np.float32) * alpha
        # round-trip exactness: where alpha is 0 the original value comes back unchanged
        out[top:bottom, left:right] = np.where(alpha > 0, np.clip(np.rint(blended), 0, 255), region).astype(np.uint8)
    return out


def _ellipse_alpha(left, top, right, bottom, cx, cy, rx, ry) -> np.ndarray:
    """1 inside the ellipse, falling to 0 over the soft edge, exactly 0 outside it."""
    ys = (np.arange(top, bottom, dtype=np.float32) + 0.5 - cy) / ry
    xs = (np.arange(left, right, dtype=np.float32) + 0.5 - cx) / rx
    radius = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    return np.clip((1 - radius) / FEATHER, 0, 1)


def _hide(cv2, region: np.ndarray, face: Face, mode: str) -> np.ndarray:
    height, width = region.shape[:2]
    face_width = max(face.box[2], 1)
    if mode == "fill":
        return np.full_like(region, FILL_VALUE)
    if mode == "pixelate":
        block = max(2.0, face_width * PIXELATE_BLOCK_FRACTION)
        small = cv2.resize(region, (max(1, round(width / block)), max(1, round(height / block))),
                           interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST).reshape(region.shape)
    if mode != "blur":
        raise ValueError(f"unknown mode {mode!r}")
    # keep only a few samples across the face, smooth them back up, then add noise so the
    # result is not a deterministic function of the face that deconvolution could invert
    samples = BLUR_SAMPLES_ACROSS_FACE / face_width
    small = cv2.resize(region, (max(1, round(width * samples)), max(1, round(height * samples))),
                       interpolation=cv2.INTER_AREA)
    smooth = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).reshape(region.shape)
    rng = np.random.default_rng(abs(hash(face.box)) % 2**32)
    noise = rng.normal(0, NOISE_LEVEL, size=region.shape)
    return np.clip(smooth.astype(np.float32) + noise, 0, 255)
