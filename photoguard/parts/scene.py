"""Whether two pictures of a sequence show a different scene (a cut, a flash, a new slide, a
face come in), or the same one moved a little.

Faces are looked for on some frames only and carried by ``tracks`` to the others: that holds a
face that was in the frames looked at, never one in a picture that differs from them. Each
picture is reduced to a colour thumbnail; the two are compared block by block, each block at
its best shift within a few pixels (a pan, a hand-held camera), and the pictures differ when
enough blocks match nowhere near.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

#: thumbnails are this wide on their long side: the cost of a comparison is nothing, and a
#: face of an eighth of the picture's height still fills a few blocks
SIDE = 96
#: blocks of this many thumbnail pixels a side
BLOCK = 4
#: each block is compared at every shift of up to this many thumbnail pixels either way
SHIFT = 2
#: a block has changed when its mean absolute difference (levels, per channel) at its best
#: shift is above this: compression noise and a little light change stay well under it
BLOCK_CHANGE = 40.0
#: ... and a picture has changed when more than this share of its blocks have
CHANGED_SHARE = 0.12


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A picture (height x width x 3, uint8) reduced for ``changed``."""
    height, width = rgb.shape[:2]
    scale = min(1.0, SIDE / max(width, height, 1))
    size = (max(BLOCK, round(width * scale)), max(BLOCK, round(height * scale)))
    small = Image.fromarray(np.ascontiguousarray(rgb[..., :3])).resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def changed(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether thumbnail ``b`` shows something ``a`` does not (or the other way round)."""
    if a.shape != b.shape:
        return True
    rows, columns = a.shape[0] // BLOCK, a.shape[1] // BLOCK
    a = a[: rows * BLOCK, : columns * BLOCK]
    padded = np.pad(b[: rows * BLOCK, : columns * BLOCK], ((SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)), mode="edge")
    best = np.full((rows, columns), np.inf, np.float32)
    for dy in range(2 * SHIFT + 1):
        for dx in range(2 * SHIFT + 1):
            shifted = padded[dy : dy + rows * BLOCK, dx : dx + columns * BLOCK]
            difference = np.abs(a - shifted).mean(axis=2)
            blocks = difference.reshape(rows, BLOCK, columns, BLOCK).mean(axis=(1, 3))
            np.minimum(best, blocks, out=best)
    return float((best > BLOCK_CHANGE).mean()) > CHANGED_SHARE
