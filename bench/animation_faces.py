#!/usr/bin/env python3
"""Faces in animations: coverage against the detection step, and the cost of an animation.

Builds animations by panning and zooming slowly across photos of a face set (SETDIR, e.g.
faces-dev/wider_people: images/ and gt.json), the way the video-faces-dev clips are made, so
that faces move, change size and leave the frame; the face boxes follow the pan and zoom.
Runs photoguard's detector on every frame once, then, for each step k (and each value of
frames.SAME_FACE_IOU given with --same), gives frames.spread, what frames.find_faces runs, the
detections of the frames it asks for: every k-th, and those between two whose faces differ
(--same none: every k-th frame alone, spread by tracks). A face (10 px tall or more, more than
half inside the frame) counts as covered in a frame when the obscuring ellipses cover 90 % of
its box. Prints, for a slow pan over --frames frames and the same pan over half as many, and
for each k: face-frames covered, faces exposed in one frame or more, the longest run of frames
a face is exposed, detector runs, and the share of the picture obscured.

--cost: instead, times side by side in one process cleaning one animation of --cost-frames
frames (an animated WebP of a slow pan, faces included) against cleaning the same frames as that
many single JPEG photos, with photoguard's own settings. Timings are noisy on a shared machine:
the ratio is what to read.

    python bench/animation_faces.py ../shared/faces-dev/wider_people [--animations 24] [--frames 30]
    python bench/animation_faces.py ../shared/faces-dev/wider_people --cost [--cost-frames 100]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photoguard import Options, clean_file
from photoguard.media import frames
from photoguard.parts import detection, tracks
from photoguard.parts.detect.base import Face
from photoguard.parts.obscure import mask_box

MIN_HEIGHT = 10
#: share of a face box that the obscuring ellipses must cover for the face to count as hidden
COVERED = 0.9
#: the pan and zoom of a slow animation, over its whole length: the window shrinks from this
#: share of the photo's width to that one while its centre moves from one point to the other
ZOOM = (0.9, 0.65)
PATH = ((0.4, 0.5), (0.6, 0.45))


def windows(photo_size, count: int, size) -> list[tuple[float, float, float, float]]:
    """(left, top, width, height) of each frame's view of the photo, the output's shape."""
    photo_w, photo_h = photo_size
    aspect = size[1] / size[0]
    out = []
    for index in range(count):
        t = index / max(1, count - 1)
        width = photo_w * (ZOOM[0] + (ZOOM[1] - ZOOM[0]) * t)
        width = min(width, photo_h / aspect)
        height = width * aspect
        cx = photo_w * (PATH[0][0] + (PATH[1][0] - PATH[0][0]) * t)
        cy = photo_h * (PATH[0][1] + (PATH[1][1] - PATH[0][1]) * t)
        left = min(max(0.0, cx - width / 2), photo_w - width)
        top = min(max(0.0, cy - height / 2), photo_h - height)
        out.append((left, top, width, height))
    return out


def animation(photo: Image.Image, boxes, count: int, size):
    """The frames, and in each frame the faces that count: (index in gt.json, box clipped to the frame)."""
    shown, faces = [], []
    for left, top, width, height in windows(photo.size, count, size):
        shown.append(photo.resize(size, Image.Resampling.BILINEAR, box=(left, top, left + width, top + height)))
        scale = size[0] / width
        frame_faces = []
        for face_id, (x, y, w, h) in enumerate(boxes):
            fx, fy, fw, fh = (x - left) * scale, (y - top) * scale, w * scale, h * scale
            x0, y0 = max(0.0, fx), max(0.0, fy)
            x1, y1 = min(size[0], fx + fw), min(size[1], fy + fh)
            inside = max(0.0, x1 - x0) * max(0.0, y1 - y0)
            if fh >= MIN_HEIGHT and inside > 0.5 * fw * fh:
                frame_faces.append((face_id, (x0, y0, x1 - x0, y1 - y0)))
        faces.append(frame_faces)
    return shown, faces


def _inside(masks: list[Face], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    inside = np.zeros(xs.shape, bool)
    for face in masks:
        cx, cy, rx, ry = mask_box(face, Options().mask_scale)
        inside |= ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1
    return inside


def covered_share(box, masks: list[Face]) -> float:
    x, y, w, h = box
    ys, xs = np.mgrid[0:8, 0:8] + 0.5
    return _inside(masks, x + xs * w / 8, y + ys * h / 8).mean()


def masked_share(masks: list[Face], size) -> float:
    ys, xs = np.mgrid[0 : size[1] : 4, 0 : size[0] : 4] + 2
    return _inside(masks, xs, ys).mean()


class Tally:
    def __init__(self):
        self.covered = self.counted = self.exposed = self.faces = self.longest = self.runs = 0
        self.masked = []

    def add(self, truth, masks_by_frame, size, runs: int) -> None:
        exposed, run = set(), {}
        for faces, masks in zip(truth, masks_by_frame):
            for face_id, box in faces:
                self.counted += 1
                if covered_share(box, masks) >= COVERED:
                    self.covered += 1
                    run[face_id] = 0
                else:
                    exposed.add(face_id)
                    run[face_id] = run.get(face_id, 0) + 1
                    self.longest = max(self.longest, run[face_id])
        self.exposed += len(exposed)
        self.faces += len({face_id for faces in truth for face_id, _ in faces})
        self.runs += runs
        self.masked += [masked_share(masks, size) for masks in masks_by_frame]

    def line(self, k: int, same: float | None) -> str:
        return (f"{k:3d} {'none' if same is None else f'{same:.2f}':>5} {self.covered:8d} / {self.counted:6d} {self.covered / max(1, self.counted):7.2%} "
                f"{self.exposed:6d} / {self.faces:5d} {self.longest:12d} {self.runs:14d} {np.mean(self.masked):9.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", type=Path, help="a face set: images/ and gt.json")
    parser.add_argument("--animations", type=int, default=24, help="photos to animate (spread over the set)")
    parser.add_argument("--frames", type=int, default=30, help="frames of a slow animation (a fast one has half)")
    parser.add_argument("--size", default="640x360", help="frame size")
    parser.add_argument("--steps", default="1,2,3,4,5,6,8", help="detection steps k to compare")
    parser.add_argument("--same", default=str(frames.SAME_FACE_IOU),
                        help="values of frames.SAME_FACE_IOU to compare (overlap under which the frames "
                             "between two sampled ones are looked at too); 'none': every k-th frame only")
    parser.add_argument("--cost", action="store_true", help="instead, time an animation against single photos")
    parser.add_argument("--cost-frames", type=int, default=100)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    steps = [(int(k), None if same == "none" else float(same))
             for k in args.steps.split(",") for same in args.same.split(",")]
    truth_all = json.loads((args.set / "gt.json").read_text())["images"]
    names = [n for n in sorted(truth_all) if truth_all[n]]
    chosen = names[:: max(1, len(names) // args.animations)][: args.animations]
    if args.cost:
        cost(args, size, chosen[0], truth_all)
        return
    detector = detection.get_detector(Options())
    print(f"{len(chosen)} photos of {args.set.name}, frames {size[0]}x{size[1]}, faces {MIN_HEIGHT} px or taller, "
          f"covered when the ellipses cover {COVERED:.0%} of the box; photoguard's step "
          f"frames.DETECT_EVERY = {frames.DETECT_EVERY}, frames.SAME_FACE_IOU = {frames.SAME_FACE_IOU}")
    for speed, count in (("slow", args.frames), ("fast", args.frames // 2)):
        tallies = {step: Tally() for step in steps}
        for name in chosen:
            photo = Image.open(args.set / "images" / name).convert("RGB")
            shown, truth = animation(photo, truth_all[name], count, size)
            detections = [detector.detect(np.asarray(frame)) for frame in shown]
            for k, same in steps:
                looked_at = set()

                def detect_at(index: int, looked_at=looked_at, detections=detections) -> list[Face]:
                    looked_at.add(index)
                    return detections[index]

                if same is None:  # every k-th frame alone, spread by tracks
                    sampled = tracks.sampled_frames(count, k)
                    masks = tracks.faces_by_frame({i: detect_at(i) for i in sampled}, count, k, size)
                else:
                    frames.SAME_FACE_IOU = same
                    masks = frames.spread(count, size, detect_at, k)
                tallies[k, same].add(truth, masks, size, len(looked_at))
        print(f"\n{speed}: {count} frames per animation, the same pan and zoom")
        print(f"{'k':>3} {'same':>5} {'face-frames covered':>24} {'faces exposed':>16} {'longest run':>12} "
              f"{'detector runs':>14} {'obscured':>9}")
        for k, same in steps:
            print(tallies[k, same].line(k, same))


def cost(args, size, name: str, truth_all) -> None:
    photo = Image.open(args.set / "images" / name).convert("RGB")
    shown, _ = animation(photo, truth_all[name], args.cost_frames, size)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        anim = folder / "animation.webp"
        shown[0].save(anim, "WEBP", save_all=True, append_images=shown[1:], duration=100, quality=90)
        singles = []
        for index, frame in enumerate(shown):
            singles.append(folder / f"photo-{index:03d}.jpg")
            frame.save(singles[-1], "JPEG", quality=90)
        options = Options(overwrite=True)
        detection.get_detector(options)  # the network is loaded once, outside the timings
        timings = {"animation": [], "photos": []}
        for _ in range(3):  # interleaved, so that both see the same load on the machine
            start = time.perf_counter()
            clean_file(anim, folder / "out" / "animation.webp", options)
            timings["animation"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for single in singles:
                clean_file(single, folder / "out" / single.name, options)
            timings["photos"].append(time.perf_counter() - start)
    best = {key: min(values) for key, values in timings.items()}
    print(f"\ncost: one animated WebP of {args.cost_frames} frames of {size[0]}x{size[1]} (k = "
          f"{frames.DETECT_EVERY}): {best['animation']:.2f} s; the same frames as {args.cost_frames} JPEG photos: "
          f"{best['photos']:.2f} s; ratio {best['animation'] / best['photos']:.2f} (best of 3)")


if __name__ == "__main__":
    main()
