#!/usr/bin/env python3
"""PSNR of a re-encoded JPEG against the upright original, for JPEGs stored turned.

For every JPEG in FOLDER with an EXIF orientation other than 1, the upright picture is
re-encoded as photoguard does when a face forces it (orientation baked in, the source's
quantisation tables and subsampling), once with the tables as they are and once halved,
and compared with the upright original.

    python bench/psnr_turned.py FOLDER
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def main() -> None:
    rows = []
    for path in sorted(Path(sys.argv[1]).iterdir()):
        try:
            image = Image.open(path)
            if image.format not in ("JPEG", "MPO") or image.getexif().get(0x0112, 1) == 1:
                continue
            image.load()
        except Exception:  # noqa: BLE001 - not a readable JPEG: not part of this measurement
            continue
        upright = ImageOps.exif_transpose(image).convert("RGB")
        tables = [image.quantization[k] for k in sorted(image.quantization)]
        sampling = JpegImagePlugin.get_sampling(image)
        scores = []
        for divisor in (1, 2):
            out = io.BytesIO()
            upright.save(out, "JPEG", qtables=[[max(1, v // divisor) for v in t] for t in tables],
                         subsampling=sampling if sampling in (0, 1, 2) else 0)
            scores.append(psnr(np.asarray(Image.open(out).convert("RGB")), np.asarray(upright)))
        rows.append(scores)
        print(f"{path.name[:50]:50} {scores[0]:6.1f} {scores[1]:6.1f}")
    same, halved = (min(r[i] for r in rows) for i in (0, 1))
    print(f"{len(rows)} turned JPEGs: worst PSNR {same:.1f} dB with the source's tables, {halved:.1f} dB halved")


if __name__ == "__main__":
    main()
