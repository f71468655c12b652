#!/usr/bin/env python3
"""The angle frontier: recall of faces turned and tilted, today's detector beside the default.

    bench/angles.py SETDIR --scratch DIR [--sets up,r90,r180,r270,t+30,t-30,t+60,t-60]
                    [--variants upright,default,thorough] [--limit N] [--face-eval PATH]
                    [--time-12mp]

Derived sets are made by code from SETDIR (images/ and gt.json, e.g. faces-dev/wider_people)
under --scratch (never inside the repository): turned 90°, 180°, 270° (counter-clockwise), and
tilted ±30° and ±60° on a canvas enlarged to hold the whole photo, each box turned with it
(the upright box around its turned corners). Variants: ``upright`` is the upright detection
alone (the detector before any-angle passes), ``default`` and ``thorough`` what photoguard
runs. Prints recall and false positives per image at IoU 0.3 for each set and variant, the
ratio of recalls, recall by WIDER pose and occlusion (attributes.json) on the upright set, and
with --time-12mp the ms per 12 MP photo of each variant side by side. Detections are cached
under --scratch by variant and set. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoguard.parts.detect import make_detector  # noqa: E402
from photoguard.parts.detect.base import iou  # noqa: E402
from photoguard.parts.detect.centerface import CenterFaceDetector  # noqa: E402

DEFAULT_FACE_EVAL = REPO.parent / "shared" / "tools" / "face_eval.py"
SETS = ("up", "r90", "r180", "r270", "t+30", "t-30", "t+60", "t-60")
VARIANTS = {
    "upright": lambda: CenterFaceDetector(),
    "default": lambda: make_detector("centerface"),
    "thorough": lambda: make_detector("centerface", thorough=True),
}


def _angle(kind: str) -> float:
    return 0.0 if kind == "up" else float(kind[1:])


def turned_box(box, angle: float, width: int, height: int, new_w: int, new_h: int) -> list[int]:
    """The upright box around ``box`` turned by ``angle`` (counter-clockwise) about the photo's
    centre, on the new canvas."""
    x, y, w, h = box
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    points = []
    for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
        dx, dy = px - width / 2, py - height / 2
        # counter-clockwise on the screen, where y grows downwards
        points.append((dx * cos + dy * sin + new_w / 2, -dx * sin + dy * cos + new_h / 2))
    xs, ys = zip(*points)
    return [round(min(xs)), round(min(ys)), round(max(xs) - min(xs)), round(max(ys) - min(ys))]


def derive(setdir: Path, kind: str, scratch: Path) -> Path:
    """The set turned or tilted, under scratch; reused when present."""
    if kind == "up":
        return setdir
    out = scratch / f"{setdir.name}_{kind}"
    if (out / "gt.json").exists():
        return out
    gt = json.loads((setdir / "gt.json").read_text())
    angle = _angle(kind)
    new = {"images": {}, "ignore": {}}
    for rel, boxes in gt["images"].items():
        photo = Image.open(setdir / "images" / rel).convert("RGB")
        width, height = photo.size
        turned = photo.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        dst = out / "images" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        turned.save(dst, quality=92)
        new_w, new_h = turned.size
        new["images"][rel] = [turned_box(b, angle, width, height, new_w, new_h) for b in boxes]
        new["ignore"][rel] = [turned_box(b, angle, width, height, new_w, new_h)
                              for b in gt.get("ignore", {}).get(rel, [])]
    (out / "gt.json").write_text(json.dumps(new))
    return out


def detections(setdir: Path, detector, out: Path, limit: int | None) -> Path:
    if out.exists():
        return out
    gt = json.loads((setdir / "gt.json").read_text())
    partial = out.with_suffix(".part")
    with partial.open("w") as fh:
        for rel in sorted(gt["images"])[:limit]:
            path = setdir / "images" / rel
            faces = detector.detect(np.asarray(Image.open(path).convert("RGB")))
            fh.write(json.dumps({"path": str(path), "faces": [
                {"box": list(f.box), "score": round(f.score, 4)} for f in faces]}) + "\n")
    partial.rename(out)
    return out


def limited_set(setdir: Path, limit: int | None, scratch: Path) -> Path:
    """The set's first ``limit`` images only (gt.json rewritten, images linked)."""
    if limit is None:
        return setdir
    out = scratch / f"{setdir.name}_first{limit}"
    if not (out / "gt.json").exists():
        gt = json.loads((setdir / "gt.json").read_text())
        names = sorted(gt["images"])[:limit]
        out.mkdir(parents=True, exist_ok=True)
        if not (out / "images").exists():
            (out / "images").symlink_to((setdir / "images").resolve())
        (out / "gt.json").write_text(json.dumps({
            "images": {n: gt["images"][n] for n in names},
            "ignore": {n: gt.get("ignore", {}).get(n, []) for n in names}}))
    return out


def score(face_eval: Path, setdir: Path, dets: Path) -> tuple[float, float, str]:
    text = subprocess.run([sys.executable, str(face_eval), str(setdir), str(dets)],
                          capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in text.splitlines() if "IoU>=0.3" in ln)
    recall = float(line.split("recall")[1].split()[0])
    fp = float(line.split("FP/image")[1].split()[0])
    return recall, fp, text


def by_attribute(setdir: Path, dets: Path) -> dict[str, tuple[int, int]]:
    """Hits / faces by WIDER pose and occlusion label (IoU 0.3, greedy by IoU)."""
    attributes_file = setdir / "attributes.json"
    if not attributes_file.exists():
        return {}
    attributes = json.loads(attributes_file.read_text())
    gt = json.loads((setdir / "gt.json").read_text())
    found = {}
    for line in dets.read_text().splitlines():
        rec = json.loads(line)
        rel = next((r for r in gt["images"] if rec["path"].endswith(r)), None)
        if rel:
            found[rel] = [f["box"] for f in rec["faces"]]
    counts: dict[str, list[int]] = {}
    for rel, boxes in gt["images"].items():
        labels = attributes["images"].get(rel) if rel in found else None
        if not labels:
            continue
        used = set()
        for i, box in enumerate(boxes):
            best, best_j = 0.3, None
            for j, det in enumerate(found.get(rel, [])):
                if j not in used and iou(box, det) >= best:
                    best, best_j = iou(box, det), j
            if best_j is not None:
                used.add(best_j)
            label = dict(zip(attributes["fields"], labels[i])) if i < len(labels) else {}
            for key in ("pose", "occlusion"):
                if key in label:
                    c = counts.setdefault(f"{key}={label[key]}", [0, 0])
                    c[0] += best_j is not None
                    c[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def time_12mp(setdir: Path, variants: dict) -> dict[str, float]:
    """Median ms of each variant on the set's first photo blown up to 4032x3024 and reduced
    the way the pipeline reduces a JPEG for detection; variants interleaved, round by round."""
    first = sorted(json.loads((setdir / "gt.json").read_text())["images"])[0]
    photo = Image.open(setdir / "images" / first).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC)
    rgb = np.asarray(photo.reduce(2))
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(3):
        for name, detector in variants.items():
            start = time.perf_counter()
            detector.detect(rgb)
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * sorted(t)[1] for name, t in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("setdir", type=Path)
    ap.add_argument("--scratch", type=Path, required=True)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--variants", default="upright,default")
    ap.add_argument("--limit", type=int, help="only the first N photos (quick looks)")
    ap.add_argument("--face-eval", type=Path, default=DEFAULT_FACE_EVAL)
    ap.add_argument("--time-12mp", action="store_true")
    a = ap.parse_args()
    if a.scratch.resolve().is_relative_to(REPO):
        ap.error("--scratch must be outside the repository")
    names = a.variants.split(",")
    detectors = {name: VARIANTS[name]() for name in names}
    cache = a.scratch / "detections"
    cache.mkdir(parents=True, exist_ok=True)
    suffix = f"_first{a.limit}" if a.limit else ""
    print(f"{'set':6} " + "  ".join(f"{n:>18}" for n in names) + f"  {'recall ratio':>12}")
    for kind in a.sets.split(","):
        setdir = limited_set(derive(a.setdir, kind, a.scratch), a.limit, a.scratch / kind)
        row = {}
        for name in names:
            dets = detections(setdir, detectors[name], cache / f"{name}_{kind}{suffix}.jsonl", a.limit)
            row[name] = score(a.face_eval, setdir, dets)[:2]
        ratio = row[names[-1]][0] / max(row[names[0]][0], 1e-9)
        print(f"{kind:6} " + "  ".join(f"{r:.3f} / {fp:.2f} FP" .rjust(18) for r, fp in row.values())
              + f"  {ratio:12.3f}", flush=True)
        if kind == "up":
            for name in names:
                dets = cache / f"{name}_{kind}{suffix}.jsonl"
                labels = by_attribute(a.setdir, dets)
                if labels:
                    print(f"  {name}: " + ", ".join(f"{k} {h / n:.3f} ({n})" for k, (h, n) in labels.items()))
    if a.time_12mp:
        ms = time_12mp(a.setdir, detectors)
        base = ms[names[0]]
        print("12 MP detection: " + ", ".join(f"{n} {v:.0f} ms ({v / base:.2f}x)" for n, v in ms.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
