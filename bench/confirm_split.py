#!/usr/bin/env python3
"""How much the BlazeFace second opinion buys, on the whole set and on halves it was not tuned on.

    bench/confirm_split.py SETDIR [--face-eval PATH] [--out DETECTIONS.jsonl]

Runs CenterFace once with the check off at threshold 0.22, asks the verifier about every box,
then re-scores offline (face_eval's matching, IoU 0.3):
1. the whole set, with and without the product's check, at thresholds 0.22 to 0.27;
2. two halves (even and odd images in name order): the check's settings are chosen on one
   half (fewest false positives at no less recall than no check at 0.25, minus 0.002) and
   scored on the other, beside the product's settings and no check.
This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoguard.parts.detect import centerface  # noqa: E402
from photoguard.parts.detect.verify import BlazeFaceVerifier  # noqa: E402

DEFAULT_FACE_EVAL = REPO.parent / "shared" / "tools" / "face_eval.py"
THRESHOLDS = (0.22, 0.23, 0.24, 0.25, 0.26, 0.27)
PRODUCT = (centerface.CONFIRM_BELOW, centerface.CONFIRM_MIN_SIDE, centerface.CONFIRM_SCORE)
#: settings tried on each half: (asked below, min working side, cut)
GRID = list(itertools.product((0.3, 0.35, 0.4, 0.45, 0.5), (12, 16, 20, 24), (0.2, 0.25, 0.3, 0.35, 0.4)))


def collect(setdir: Path, names: list[str]) -> dict[str, list[tuple]]:
    """(box, score, working side, verifier score) for every box, check off."""
    detector = centerface.CenterFaceDetector(0.22, confirm_below=0)
    verifier = BlazeFaceVerifier()
    found = {}
    for name in names:
        rgb = np.asarray(Image.open(setdir / "images" / name).convert("RGB"))
        f = centerface._factor(*rgb.shape[:2], detector.work_side, centerface.MAX_UPSCALE)
        found[name] = [(face.box, face.score, min(face.box[2:]) * f, verifier.score(rgb, face.box))
                       for face in detector.detect(rgb)]
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("setdir", type=Path)
    ap.add_argument("--face-eval", type=Path, default=DEFAULT_FACE_EVAL)
    ap.add_argument("--out", type=Path, help="where to keep the boxes and scores (JSON Lines)")
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("face_eval", a.face_eval)
    face_eval = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(face_eval)

    gt = json.loads((a.setdir / "gt.json").read_text())
    names = sorted(gt["images"])
    found = collect(a.setdir, names)
    out = a.out or Path(tempfile.mkstemp(suffix=".jsonl")[1])
    with out.open("w") as fh:
        for name in names:
            fh.write(json.dumps({"path": name, "faces": [
                {"box": list(b), "score": s, "work": w, "verifier": v} for b, s, w, v in found[name]]}) + "\n")

    def score(subset, threshold, check=None):
        """recall, FP per image over ``subset`` with ``check`` = (below, min side, cut) or None"""
        tp = fp = total = 0
        for name in subset:
            boxes = [list(b) for b, s, w, v in found[name] if s >= threshold and (
                check is None or s >= check[0] or w < check[1] or v >= check[2])]
            _, t, f = face_eval.match(boxes, gt["images"][name], gt.get("ignore", {}).get(name, []), 0.3)
            tp, fp, total = tp + t, fp + f, total + len(gt["images"][name])
        return tp / total, fp / len(subset)

    def row(label, figures):
        print(f"{label:<34}" + "  ".join(f"{r:.3f}/{f:.2f}" for r, f in figures))

    print(f"recall/FP per image at thresholds {', '.join(map(str, THRESHOLDS))}\nwhole set ({len(names)} images):")
    row("  no check", [score(names, t) for t in THRESHOLDS])
    row(f"  product check {PRODUCT}", [score(names, t, PRODUCT) for t in THRESHOLDS])
    halves = [names[0::2], names[1::2]]
    for i, test in enumerate(halves):
        train = halves[1 - i]
        floor = score(train, 0.25)[0] - 0.002
        picks = [(score(train, t, c), t, c) for t in THRESHOLDS[:4] for c in GRID]
        _, t, c = min((p for p in picks if p[0][0] >= floor), key=lambda p: p[0][1])
        print(f"half {i} ({len(test)} images), settings chosen on the other half: threshold {t}, check {c}")
        row("  no check", [score(test, t) for t in THRESHOLDS])
        row("  product check", [score(test, t, PRODUCT) for t in THRESHOLDS])
        row("  check chosen on the other half", [score(test, t, c) for t in THRESHOLDS])
    return 0


if __name__ == "__main__":
    sys.exit(main())
