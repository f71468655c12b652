"""How the video face pass's choices trade coverage for time, from detections cached once.

    python bench/video_faces.py FACES_DIR [--sides 480,640] [--every 1,2,3,4,6] [--cache FILE]

FACES_DIR is a folder like ../shared/video-faces-dev (clips/*.mp4 and gt.json with a box per
face per frame, in displayed pixels). Every frame of every clip is decoded, reduced so its
long side is each of ``--sides`` (as photoguard.media.video.faces does), turned upright and given
to the default detector; the detections are cached (``--cache``), so later runs only
re-score. Then, for each side and each sampling step, the detections of the sampled frames
go through photoguard.parts.tracks as the product does, and each ground-truth face (10 px or taller)
counts as covered in a frame when the inner 75 % of its box lies inside the fully obscured
part of one mask ellipse (mask scale 1.4, the ellipse less its feathered rim). This is a
geometric stand-in for ../shared/tools/video_face_eval.py, which judges the pixels of real
copies (run it to confirm a choice). Prints coverage, the longest run of frames a face stays
uncovered, and the detector's time per frame at each side (timings vary with the machine's load).

``--write OUT`` also writes cleaned copies of the clips into OUT with the product's own
writing pass, fed the cached detections of the first side and step given (no detector runs),
for ../shared/tools/video_face_eval.py FACES_DIR OUT to judge their pixels.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import av
import numpy as np

from photoguard.options import Options
from photoguard.parts import detection

MASK_SCALE = Options().mask_scale
MIN_FACE = 10
#: tracks scoring below this need two detections (--confirm-below)
CONFIRM_BELOW = 0.0
#: faces are carried along with the camera's motion (--still-camera: held where they were)
CAMERA = True
SHRINK = 0.125


def upright_reduced(frame, side: int) -> tuple[np.ndarray, float]:
    """A frame reduced so its long side is ``side``, turned upright, and the factor from its
    pixels to displayed ones."""
    from photoguard.media.video.faces import reduced_size

    small = reduced_size(frame.width, frame.height, side)
    pixels = frame.reformat(*small, format="rgb24", interpolation="AREA").to_ndarray()
    pixels = np.ascontiguousarray(np.rot90(pixels, (frame.rotation // 90) % 4))
    return pixels, (frame.height if frame.rotation % 180 else frame.width) / pixels.shape[1]


def camera_clip(path: Path) -> list:
    """How the picture moved from each frame to the next ((zoom, dx, dy) in displayed pixels),
    as the product's CameraTracker sees it on the frames faces are looked for on."""
    from photoguard.media.video.camera import CameraTracker
    from photoguard.media.video.faces import DETECT_SIDE

    camera, steps = CameraTracker(), []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            pixels, factor = upright_reduced(frame, DETECT_SIDE)
            zoom, dx, dy = camera.step(pixels)
            steps.append((zoom, dx * factor, dy * factor))
    return steps


def detect_clip(path: Path, sides: list[int], detector) -> tuple[dict, dict]:
    """{side: [[box, score]...] per frame}, {side: seconds spent detecting}."""
    found = {side: [] for side in sides}
    spent = {side: 0.0 for side in sides}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            for side in sides:
                pixels, factor = upright_reduced(frame, side)
                start = time.perf_counter()
                faces = detector.detect(pixels)
                spent[side] += time.perf_counter() - start
                found[side].append([[list(face.scaled(factor, factor).box), face.score] for face in faces])
    return found, spent


def camera_steps(steps: list, every: int) -> dict:
    """The camera's motion between the frames a step of ``every`` looks at, composed from its
    motion between consecutive frames."""
    count, out = len(steps), {}
    looked = [index for index in range(count) if index % every == 0 or index == count - 1]
    for before, after in zip(looked, looked[1:]):
        zoom, dx, dy = 1.0, 0.0, 0.0
        for z, sx, sy in steps[before + 1:after + 1]:
            zoom, dx, dy = zoom * z, dx * z + sx, dy * z + sy
        out[after] = (zoom, dx, dy)
    return out


def covered(gt_box, faces) -> bool:
    from photoguard.parts.obscure import FEATHER

    x, y, w, h = gt_box
    inner = (x + w * SHRINK, y + h * SHRINK, x + w * (1 - SHRINK), y + h * (1 - SHRINK))
    corners = [(inner[0], inner[1]), (inner[2], inner[1]), (inner[0], inner[3]), (inner[2], inner[3])]
    for face in faces:
        fx, fy, fw, fh = face.box
        cx, cy, rx, ry = fx + fw / 2, fy + fh / 2, fw * MASK_SCALE / 2, fh * MASK_SCALE / 2
        if rx <= 0 or ry <= 0:
            continue
        if all(((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 <= (1 - FEATHER) ** 2 for px, py in corners):
            return True
    return False


def timeline(truth: dict, per_frame_found: list, every: int, steps: list | None = None):
    """The product's FaceTimeline of a clip (30 fps), fed the cached detections of the frames
    a step of ``every`` looks at (and the camera's motion between them, when cached)."""
    from photoguard.media.video import faces as face_pass
    from photoguard.media.video.probe import Probe
    from photoguard.parts.detect.base import Face

    count = len(per_frame_found)
    turned = truth["rotation"] % 180
    probe = Probe(video=0, audio=None, width=truth["height"] if turned else truth["width"],
                  height=truth["width"] if turned else truth["height"], rotation=truth["rotation"],
                  frames=count, seconds=count / 30)
    line = face_pass.FaceTimeline(probe, CONFIRM_BELOW)
    line.every = every
    motion = camera_steps(steps, every) if steps and CAMERA else {}
    for index, detections in enumerate(per_frame_found):
        looked = index % every == 0 or index == count - 1
        line.frame(index / 30, [face_pass.grown(Face(tuple(b), s)) for b, s in detections] if looked else None,
                   motion.get(index) if looked else None)
    line.finish()
    return line


def score(clips: dict, cache: dict, side: int, every: int) -> tuple[int, int, int, float]:
    """(covered face-frames, face-frames, longest uncovered run, share of the picture masked
    outside the faces) over all clips."""
    hits = total = longest = 0
    outside = []
    for name, truth in clips.items():
        if str(side) not in cache.get(name, {}):
            continue  # not detected yet (a run cut short): scored on the clips there are
        per_frame_found = cache[name][str(side)]
        count = len(per_frame_found)
        line = timeline(truth, per_frame_found, every, cache[name].get("camera"))
        shown = [line.faces(index) for index in range(count)]
        runs: dict[int, int] = {}
        for index, faces in enumerate(truth["faces"][:count]):
            for x, y, w, h, face_id in faces:
                if h < MIN_FACE:
                    continue
                total += 1
                if covered((x, y, w, h), shown[index]):
                    hits += 1
                    runs[face_id] = 0
                else:
                    runs[face_id] = runs.get(face_id, 0) + 1
                    longest = max(longest, runs[face_id])
        outside += [masked_outside(truth, shown[index], index) for index in range(0, count, 5)]
    return hits, total, longest, float(np.mean(outside)) if outside else 0.0


def masked_outside(truth: dict, faces, index: int, cell: int = 4) -> float:
    """The share of a frame's picture inside some mask ellipse but outside every face's box
    (blurred for nothing), on a grid of ``cell`` pixels."""
    width, height = truth["width"], truth["height"]
    if truth["rotation"] % 180:
        width, height = height, width
    ys, xs = (np.mgrid[0:height // cell, 0:width // cell] * cell + cell / 2).astype(np.float32)
    masked = np.zeros(xs.shape, bool)
    for face in faces:
        x, y, w, h = face.box
        rx, ry = w * MASK_SCALE / 2, h * MASK_SCALE / 2
        if rx > 0 and ry > 0:
            masked |= ((xs - x - w / 2) / rx) ** 2 + ((ys - y - h / 2) / ry) ** 2 <= 1
    for x, y, w, h, _ in truth["faces"][index]:
        masked[max(0, int(y) // cell):int(y + h) // cell + 1, max(0, int(x) // cell):int(x + w) // cell + 1] = False
    return float(masked.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("faces_dir", type=Path)
    parser.add_argument("--sides", default="480,640")
    parser.add_argument("--every", default="1,2,3,4,6")
    parser.add_argument("--cache", type=Path, default=Path("video_faces_cache.json"))
    parser.add_argument("--detect-only", action="store_true",
                        help="only fill the cache (this part needs no photoguard.media.video: another "
                             "engine's checkout can fill it)")
    parser.add_argument("--score-only", action="store_true", help="only score what the cache holds")
    parser.add_argument("--grow", default=None, metavar="W,H[,UP_TO]",
                        help="grow detected boxes by these shares instead of the product's GROW_WIDTH, "
                             "GROW_HEIGHT (and GROW_UP_TO)")
    parser.add_argument("--threshold", type=float, default=None, help="detection threshold (default: the engine's)")
    parser.add_argument("--clips", default="", help="only clips whose names contain one of these (comma-separated)")
    parser.add_argument("--confirm-below", type=float, default=None,
                        help="tracks whose detections all score below this need two of them "
                             "(default: the product's rule for the default detector)")
    parser.add_argument("--hold", default=None, metavar="MISSES,SECONDS[,OWN_WAY]",
                        help="photoguard.media.video.faces MAX_MISSES, HOLD_SECONDS (and OWN_WAY_SECONDS) to try "
                             "instead of the product's")
    parser.add_argument("--still-camera", action="store_true",
                        help="do not carry faces along with the camera's motion (as before it was followed)")
    parser.add_argument("--write", type=Path, default=None, metavar="OUT",
                        help="write cleaned copies from the cached detections (first side and step)")
    args = parser.parse_args()
    sides = [int(s) for s in args.sides.split(",")]
    global CONFIRM_BELOW, CAMERA
    CAMERA = not args.still_camera
    from photoguard.media.video import faces as face_pass

    CONFIRM_BELOW = face_pass.detection_options(Options())[1] if args.confirm_below is None else args.confirm_below
    if args.hold:
        misses, seconds, *own_way = args.hold.split(",")
        face_pass.MAX_MISSES, face_pass.HOLD_SECONDS = int(misses), float(seconds)
        face_pass.OWN_WAY_SECONDS = float(own_way[0]) if own_way else face_pass.OWN_WAY_SECONDS
    if args.grow:
        from photoguard.media.video import faces as face_pass

        values = [float(v) for v in args.grow.split(",")]
        face_pass.GROW_WIDTH, face_pass.GROW_HEIGHT = values[:2]
        face_pass.GROW_UP_TO = values[2] if len(values) > 2 else face_pass.GROW_UP_TO
    truth = json.loads((args.faces_dir / "gt.json").read_text())["clips"]
    if args.clips:
        truth = {k: v for k, v in truth.items() if any(part in k for part in args.clips.split(","))}
    cache = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    detector = None if args.score_only else detection.get_detector(Options(threshold=args.threshold))
    timing = {side: [0.0, 0] for side in sides}
    for name in sorted(truth):
        if args.score_only:
            break
        entry = cache.setdefault(name, {})
        if "camera" not in entry and not args.still_camera:
            entry["camera"] = camera_clip(args.faces_dir / "clips" / name)
            args.cache.write_text(json.dumps(cache))
        missing = [s for s in sides if str(s) not in entry]
        if not missing:
            continue
        found, spent = detect_clip(args.faces_dir / "clips" / name, missing, detector)
        for side in missing:
            entry[str(side)] = found[side]
            timing[side][0] += spent[side]
            timing[side][1] += len(found[side])
        args.cache.write_text(json.dumps(cache))
        print(f"detected {name}", flush=True)
    for side in sides:
        if timing[side][1]:
            print(f"side {side}: {1000 * timing[side][0] / timing[side][1]:.0f} ms per detection")
    if args.detect_only:
        return
    for side in sides:
        for every in (int(e) for e in args.every.split(",")):
            hits, total, longest, outside = score(truth, cache, side, every)
            print(f"side {side:4d} every {every}: coverage {hits}/{total} = {hits / total:.4f}, "
                  f"longest uncovered run {longest} frames, masked outside faces {100 * outside:.1f}%")
    if args.write:
        write_copies(args.faces_dir, truth, cache, sides[0], int(args.every.split(",")[0]), args.write)


def write_copies(faces_dir: Path, truth: dict, cache: dict, side: int, every: int, out: Path) -> None:
    from photoguard.media.video.probe import probe
    from photoguard.media.video.rewrite import write_copy
    from photoguard.media.video.source import Source

    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(truth):
        if str(side) not in cache.get(name, {}):
            continue
        source, options = Source(faces_dir / "clips" / name), Options()
        found = probe(source, options)
        line = timeline(truth[name], cache[name][str(side)], every, cache[name].get("camera"))
        with open(out / name, "w+b") as handle:
            write_copy(source, handle, found, line, options)
        print(f"wrote {name}", flush=True)


if __name__ == "__main__":
    main()
