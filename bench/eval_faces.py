#!/usr/bin/env python3
"""Run a photoguard face detector over an annotated set and score it with face_eval.py.

    bench/eval_faces.py SETDIR [--detector centerface|haar] [--thorough] [--threshold T]
                        [--derive rot90|up4 --scratch DIR] [--out DETECTIONS.jsonl]
                        [--sweep 0.2,0.3,...] [--work-side N] [--confirm-below S]
                        [--zoom Z] [--zoom-from S] [--zoom-window N] [--zoom-max N]
                        [--zoom-margin S] [--no-mirror] [--model ONNX] [--face-eval PATH]
                        [--time-12mp]

SETDIR holds images/ and gt.json (see ../shared/README.md). --derive builds a rotated (90°
clockwise) or 4x upscaled copy of the set, boxes transformed, under --scratch (never inside
the repository) and evaluates that. --sweep re-scores the same run at higher thresholds
(nearly exact: greedy NMS only lets a higher-scoring box suppress a kept one, but a box cut
away could have been the bigger face that made a smaller box count as a part of it, and the
zoomed pass looks at the boxes under the threshold the run was made with).
Images are loaded the way the pipeline shows them: Pillow, convert("RGB"), np.asarray.
This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoguard.parts.detect import centerface, make_detector  # noqa: E402
from photoguard.parts.detect.centerface import CenterFaceDetector  # noqa: E402
from photoguard.parts.detect.passes import ThoroughDetector  # noqa: E402

DEFAULT_FACE_EVAL = REPO.parent / "shared" / "tools" / "face_eval.py"


def derive(setdir: Path, kind: str, scratch: Path) -> Path:
    """A transformed copy of the set (images + gt.json) under scratch; reused if present."""
    out = scratch / f"{setdir.name}_{kind}"
    if (out / "gt.json").exists():
        return out
    gt = json.loads((setdir / "gt.json").read_text())

    def tf(box, w, h):
        x, y, bw, bh = box
        if kind == "rot90":  # clockwise: (x, y) -> (h - y - bh, x)
            return [h - y - bh, x, bh, bw]
        return [4 * x, 4 * y, 4 * bw, 4 * bh]

    new = {"images": {}, "ignore": {}}
    for rel, boxes in gt["images"].items():
        im = Image.open(setdir / "images" / rel).convert("RGB")
        w, h = im.size
        im = im.transpose(Image.Transpose.ROTATE_270) if kind == "rot90" else \
            im.resize((4 * w, 4 * h), Image.Resampling.BICUBIC)
        dst = out / "images" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        im.save(dst, quality=92)
        new["images"][rel] = [tf(b, w, h) for b in boxes]
        new["ignore"][rel] = [tf(b, w, h) for b in gt.get("ignore", {}).get(rel, [])]
    (out / "gt.json").write_text(json.dumps(new))
    return out


def run(setdir: Path, detector, out: Path) -> float:
    """Detect on every image, write the jsonl; mean ms per image (detection only)."""
    gt = json.loads((setdir / "gt.json").read_text())
    total = 0.0
    with out.open("w") as fh:
        for rel in sorted(gt["images"]):
            path = setdir / "images" / rel
            rgb = np.asarray(Image.open(path).convert("RGB"))
            t = time.perf_counter()
            faces = detector.detect(rgb)
            total += time.perf_counter() - t
            fh.write(json.dumps({"path": str(path), "faces": [
                {"box": list(f.box), "score": round(f.score, 4)} for f in faces]}) + "\n")
    return 1000 * total / max(1, len(gt["images"]))


class _Counting:
    """A session stand-in that counts the pixels sent through the network (a cost figure
    that, unlike a time, does not depend on what else the machine is doing)."""

    def __init__(self, session):
        self.session, self.pixels = session, 0

    def run(self, names, feeds):
        (blob,) = feeds.values()
        self.pixels += blob.shape[2] * blob.shape[3]
        return self.session.run(names, feeds)


def time_12mp(setdir: Path, detector) -> tuple[float, float]:
    """Median ms to detect on the set's first image blown up to 4032x3024, reduced first the
    way the pipeline does (a JPEG draft decodes 12 MP at half size for detection), and the
    megapixels that went through the network for it."""
    first = sorted(json.loads((setdir / "gt.json").read_text())["images"])[0]
    photo = Image.open(setdir / "images" / first).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC)
    rgb = np.asarray(photo.reduce(2))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        detector.detect(rgb)
        times.append(time.perf_counter() - t)
    engine = getattr(detector, "inner", detector)
    megapixels = float("nan")
    if hasattr(engine, "_session"):
        engine._session = counting = _Counting(engine._session)
        detector.detect(rgb)
        engine._session, megapixels = counting.session, counting.pixels / 1e6
    return 1000 * sorted(times)[1], megapixels


def score(face_eval: Path, setdir: Path, dets: Path) -> str:
    res = subprocess.run([sys.executable, str(face_eval), str(setdir), str(dets)],
                         capture_output=True, text=True, check=True)
    return res.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("setdir", type=Path)
    ap.add_argument("--detector", default="centerface", choices=["centerface", "haar"])
    ap.add_argument("--thorough", action="store_true")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--derive", choices=["rot90", "up4"])
    ap.add_argument("--scratch", type=Path, help="folder for derived sets (outside the repo)")
    ap.add_argument("--out", type=Path, help="detections jsonl (default: a temporary file)")
    ap.add_argument("--sweep", help="comma-separated higher thresholds to re-score")
    ap.add_argument("--work-side", type=int, help="centerface: override the working size (tuning)")
    ap.add_argument("--confirm-below", type=float,
                    help="centerface: boxes scoring below this are checked by BlazeFace (0 turns the check off; tuning)")
    ap.add_argument("--zoom", type=float, help="centerface: zoomed small-face pass factor (0: off; tuning)")
    ap.add_argument("--zoom-from", type=float, help="centerface: lowest score a zoom candidate has (tuning)")
    ap.add_argument("--zoom-window", type=int, help="centerface: zoom window side in working pixels (tuning)")
    ap.add_argument("--zoom-max", type=int, help="centerface: most zoom windows a photo (tuning)")
    ap.add_argument("--zoom-margin", type=float, help="centerface: how much a zoomed face must beat the threshold by (tuning)")
    ap.add_argument("--no-mirror", action="store_true", help="centerface: working pass without the mirror (tuning)")
    ap.add_argument("--model", type=Path,
                    help="centerface: another ONNX file, e.g. tools/quantize_centerface.py's int8 model (tuning)")
    ap.add_argument("--face-eval", type=Path, default=DEFAULT_FACE_EVAL)
    ap.add_argument("--time-12mp", action="store_true",
                    help="also time the detector on a 4032x3024 photo (the frontier of issue #5)")
    a = ap.parse_args()

    setdir = a.setdir
    if a.derive:
        if not a.scratch:
            ap.error("--derive needs --scratch DIR")
        if a.scratch.resolve().is_relative_to(REPO):
            ap.error("--scratch must be outside the repository")
        setdir = derive(setdir, a.derive, a.scratch)
    out = a.out or Path(tempfile.mkstemp(suffix=".jsonl")[1])

    if a.model:  # checked against its own hash: an experiment's file, not the shipped one
        centerface.MODEL_PATH, centerface.MODEL_SHA256 = a.model, hashlib.sha256(a.model.read_bytes()).hexdigest()
    if a.confirm_below is not None and a.detector == "centerface":
        detector = CenterFaceDetector(a.threshold, confirm_below=a.confirm_below)
        detector = ThoroughDetector(detector) if a.thorough else detector
    else:
        detector = make_detector(a.detector, a.threshold, a.thorough)
    if a.work_side:
        getattr(detector, "inner", detector).work_side = a.work_side
    inner = getattr(detector, "inner", detector)
    for knob in ("zoom", "zoom_from", "zoom_window", "zoom_max", "zoom_margin"):
        if getattr(a, knob) is not None:
            setattr(inner, knob, getattr(a, knob))
    if a.no_mirror:
        inner.mirror = False

    detector.detect(np.zeros((64, 64, 3), np.uint8))  # model load is not per-image cost
    ms = run(setdir, detector, out)
    print(f"set {setdir}  detector {a.detector}{' thorough' if a.thorough else ''}  "
          f"threshold {a.threshold if a.threshold is not None else 'default'}  {ms:.0f} ms/image")
    print(score(a.face_eval, setdir, out), end="")

    if a.time_12mp:
        ms, megapixels = time_12mp(setdir, detector)
        print(f"detection on a 12 MP photo: {ms:.0f} ms (median of 3), {megapixels:.2f} MP through the network")
    for t in [float(x) for x in a.sweep.split(",")] if a.sweep else []:
        filtered = out.with_suffix(f".t{t}.jsonl")
        with out.open() as src, filtered.open("w") as dst:
            for line in src:
                rec = json.loads(line)
                rec["faces"] = [f for f in rec["faces"] if f["score"] >= t]
                dst.write(json.dumps(rec) + "\n")
        line = next(ln for ln in score(a.face_eval, setdir, filtered).splitlines() if "IoU>=0.3" in ln)
        print(f"threshold {t}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
