#!/usr/bin/env python3
"""How far each clean copy is from its original, as a viewer shows them.

Reads the JSON Lines of ``photoguard clean --json`` (each line maps an input to its copy),
decodes both files, every frame or page of them, with the EXIF orientation applied and the
colours brought to sRGB through each file's own profile, composites every frame over black and
over white, and compares. Frames are matched by time (an encoder may merge a frame into the one
before when they look the same); a copy that keeps only the primary picture of a burst or MPO
is compared with that picture. Clean with --no-faces: obscured faces are meant to differ.

Prints, per file, the frames compared and the difference per channel (0-255) over both
backgrounds: its mean, its mean where either file is not fully opaque ("clear": a lost
transparency shows there, however few such pixels there are), and its worst; OVER when either
mean is above LIMIT; then the totals.

    photoguard clean ORIGINALS -o COPIES --no-faces --json > results.jsonl
    python bench/compare_copies.py results.jsonl [--limit 4]
"""

from __future__ import annotations

import argparse
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps

warnings.simplefilter("ignore")
pillow_heif.register_heif_opener()
_SRGB = ImageCms.createProfile("sRGB")


def shown(image: Image.Image) -> np.ndarray:
    """The current frame as a colour-managed viewer shows it: upright, sRGB, RGBA (float)."""
    profile = image.info.get("icc_profile")
    frame = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image.copy()
    rgba = frame.convert("RGBA")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            intent = ImageCms.getDefaultIntent(source)
            rgb = ImageCms.profileToProfile(
                frame.convert("CMYK" if frame.mode == "CMYK" else "RGB"), source, _SRGB,
                renderingIntent=intent if intent in (0, 1, 2, 3) else 1, outputMode="RGB")
            rgb.putalpha(rgba.getchannel("A"))
            rgba = rgb
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: shown as stored, as most viewers do
    return np.asarray(rgba, dtype=np.float64)


def timeline(path: Path) -> list[tuple[int, np.ndarray]]:
    """(start in ms, frame as shown) for every frame or page; pages start at 0, 1, 2..."""
    with Image.open(path) as image:
        if image.format in ("HEIF", "MPO") or getattr(image, "n_frames", 1) == 1:
            return [(0, shown(image))]  # one picture, or the primary one that a copy keeps
        # a PNG's default image outside its animation is a still for old viewers, left out of copies
        first = 1 if image.format == "PNG" and image.info.get("default_image") else 0
        frames, clock = [], 0
        for index in range(first, image.n_frames):
            image.seek(index)
            if image.format == "TIFF" and image.tag_v2.get(254, 0) & 1:
                continue  # a reduced copy of a page (a thumbnail): metadata
            frames.append((clock, shown(image)))
            clock += 1 if image.format == "TIFF" else round(image.info.get("duration", 0))
        return frames


def over(rgba: np.ndarray, background: float) -> np.ndarray:
    alpha = rgba[..., 3:] / 255
    return rgba[..., :3] * alpha + background * (1 - alpha)


def compare(original: Path, copy: Path) -> tuple[int, float, float, float, str]:
    """Frames compared; the mean difference per channel, the mean where either file is not
    fully opaque (nan when both are opaque everywhere), and the worst; and a note."""
    before, after = timeline(original), timeline(copy)
    means, clear_means, worst = [], [], 0.0
    for start, frame in before:
        copied = [f for s, f in after if s <= start][-1]  # the copy's frame on screen then
        if copied.shape != frame.shape:
            nan = float("nan")
            return len(before), nan, nan, nan, f"size {copied.shape[:2]} != {frame.shape[:2]}"
        clear = (frame[..., 3] < 255) | (copied[..., 3] < 255)
        for background in (0.0, 255.0):
            difference = np.abs(over(frame, background) - over(copied, background))
            means.append(difference.mean())
            if clear.any():
                clear_means.append(difference[clear].mean())
            worst = max(worst, float(difference.max()))
    note = f"{len(before) - len(after)} frames merged" if len(after) < len(before) else ""
    clear_mean = float(np.mean(clear_means)) if clear_means else float("nan")
    return len(before), float(np.mean(means)), clear_mean, worst, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="JSON Lines of photoguard clean --json")
    parser.add_argument("--limit", type=float, default=4.0, help="mean difference per channel allowed")
    args = parser.parse_args()
    compared, over_limit, failed, means = 0, [], [], []
    print(f"{'file':60} {'frames':>6} {'mean':>7} {'clear':>7} {'worst':>6}")
    for line in args.results.read_text().splitlines():
        item = json.loads(line)
        if item["status"] == "failed":
            failed.append(Path(item["input"]).name)
        if item["status"] != "cleaned":
            continue
        original, copy = Path(item["input"]), Path(item["output"])
        frames, mean, clear_mean, worst, note = compare(original, copy)
        compared += 1
        means.append(mean)
        flag = "" if mean <= args.limit and not clear_mean > args.limit else "OVER"
        if flag:
            over_limit.append(original.name)
        print(f"{original.name[:60]:60} {frames:6d} {mean:7.2f} {clear_mean:7.2f} {worst:6.0f} {flag:4} {note}")
    print(f"{compared} copies compared over black and over white: mean of means {np.nanmean(means):.2f}, "
          f"worst mean {np.nanmax(means):.2f}; {len(over_limit)} above {args.limit:g} (mean, or mean where "
          f"not opaque): {', '.join(over_limit) or '-'}; {len(failed)} refused: {', '.join(failed) or '-'}")


if __name__ == "__main__":
    main()
