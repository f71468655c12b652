#!/usr/bin/env python3
"""Picture quality of re-encoded video copies away from faces: PSNR against the source's decode.

    python bench/video_quality.py CLIP_OR_FOLDER... [--crf 18,20,22] [--preset veryfast]

Each clip is cleaned in this process with a detector that finds nothing, so every pixel of
the copy is "away from faces" and only the re-encode changes it; the copy and the source are
decoded (8-bit, the display rotation applied) and compared frame by frame. Prints, per clip
and CRF, the worst and the mean frame PSNR in dB (luma and chroma of RGB, the way a viewer
sees them), and the copy's size against the source's. HDR sources are re-encoded to 10-bit
HEVC (at the product's HEVC_CRF, or --hevc-crf); they are compared after both are converted to
8-bit RGB. The target is a worst frame of at least 38 dB.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np

from photoguard import clean_file
from photoguard.media.video import encoder
from photoguard.options import Options
from photoguard.parts import detection

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".3gp"}


class NoFaces:
    name = "none"

    def detect(self, rgb):
        return []


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        if not container.streams.video:
            return []
        return [np.rot90(f.to_ndarray(format="rgb24"), (f.rotation // 90) % 4) for f in container.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else float(10 * np.log10(255 ** 2 / mse))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--crf", default=str(encoder.H264_CRF))
    parser.add_argument("--preset", default=encoder.H264_PRESET)
    parser.add_argument("--hevc-crf", type=int, default=encoder.HEVC_CRF)
    args = parser.parse_args()
    clips = sorted(p for path in args.paths for p in ([path] if path.is_file() else path.rglob("*"))
                   if p.suffix.lower() in VIDEO_SUFFIXES)
    detection.get_detector = lambda options: NoFaces()
    encoder.H264_PRESET, encoder.HEVC_CRF = args.preset, args.hevc_crf
    worst_overall = {}
    with tempfile.TemporaryDirectory() as scratch:
        for clip in clips:
            source = frames(clip)
            if not source:
                continue
            for crf in (int(c) for c in args.crf.split(",")):
                encoder.H264_CRF = crf
                copy = Path(scratch) / f"{clip.stem}-{crf}.mp4"
                clean_file(clip, copy, Options(overwrite=True))
                scores = [psnr(a, b) for a, b in zip(source, frames(copy))]
                worst_overall[crf] = min(worst_overall.get(crf, 99.0), min(scores))
                print(f"{clip.name[:60]:60s} crf {crf}/{encoder.HEVC_CRF}: worst {min(scores):5.1f} dB, mean {np.mean(scores):5.1f} dB, "
                      f"size {copy.stat().st_size / clip.stat().st_size:4.2f}x", flush=True)
    for crf, worst in sorted(worst_overall.items()):
        print(f"H.264 crf {crf} ({args.preset}), HEVC crf {encoder.HEVC_CRF}: worst frame of all clips {worst:.1f} dB")


if __name__ == "__main__":
    main()
