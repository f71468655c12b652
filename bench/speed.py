#!/usr/bin/env python3
"""Speed benchmark: photoguard against the cost of decoding and encoding each photo once.

Two workloads, generated deterministically in a scratch folder:

  mixed    12 MP camera-like JPEGs with EXIF, some portrait-oriented, about a third with
           real faces from sample_images/ composited in, plus a few HEIC and PNG files
  people   (with --people DIR) photos of people, as most of a family album is: --people-count
           photos picked evenly from DIR, blown up to 12 MP (4032x3024) with sensor-like noise

and times side by side in one run, each figure the median of --runs:

  floor            Pillow decode + encode of every file, same number of processes
  no-faces         photoguard clean --no-faces
  clean            photoguard clean (defaults)
  thorough         photoguard clean --thorough
  exiftool         exiftool -all= over the folder (metadata only, mixed, -j 1), when installed
  deface           deface --scale 1280x960 --backend onnxrt (people, one process using both
                   cores, as a user runs it), when found: --deface PATH or on PATH. Install it
                   in its own environment, never photoguard's (it needs another OpenCV wheel):
                   python -m venv /tmp/venv-deface && /tmp/venv-deface/bin/pip install deface

mixed with -j 1 and -j 2, people with -j 2; with --models, one network pass of each given
CenterFace file beside the shipped one (the int8 experiment); plus peak memory of one worker on a 12 MP photo
(a photo of people when --people is given), a 100 MP photo's peak memory, time per file for
1,000 vs 50 small files, and `photoguard --help` start-up. Prints every time as a ratio: to
the floor with the same -j, and for people also to deface.

    python bench/speed.py --scratch /tmp/pg-bench [--count 50] [--runs 3]
        [--people ../shared/faces-dev/wider_people/images [--people-count 24]] [--deface PATH]
        [--models INT8.onnx ...]
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import piexif
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_images"
WIDTH, HEIGHT = 4032, 3024
PHOTOGUARD = [sys.executable, "-m", "photoguard"]


# --- workload -------------------------------------------------------------------------------

def camera_exif(index: int, orientation: int) -> bytes:
    return piexif.dump({
        "0th": {piexif.ImageIFD.Make: b"Google", piexif.ImageIFD.Model: b"Pixel 8",
                piexif.ImageIFD.Orientation: orientation, piexif.ImageIFD.DateTime: b"2024:06:12 15:30:00"},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:06:12 15:30:00",
                 piexif.ExifIFD.BodySerialNumber: f"SN{index:06d}".encode()},
        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (3013, 100)),
                piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (4012, 100))},
    })


def backgrounds() -> list[np.ndarray]:
    """Photo-like 12 MP backgrounds: the sample photos enlarged, with sensor-like noise."""
    sources = [SAMPLES / "coffee_gps.jpg", SAMPLES / "group_two_faces.jpg", SAMPLES / "astronaut_gps.jpg"]
    return [np.asarray(Image.open(p).convert("RGB").resize((WIDTH, HEIGHT), Image.BICUBIC)) for p in sources]


def faces() -> list[Image.Image]:
    crops = [(SAMPLES / "astronaut_gps.jpg", (140, 20, 320, 220)), (SAMPLES / "group_two_faces.jpg", (600, 40, 880, 340))]
    return [Image.open(p).convert("RGB").crop(box) for p, box in crops]


def make_workload(folder: Path, count: int, size: tuple[int, int] = (WIDTH, HEIGHT), extras: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12345)
    bases = backgrounds() if size == (WIDTH, HEIGHT) else [
        np.asarray(Image.fromarray(b).resize(size)) for b in backgrounds()]
    face_crops = faces()
    for index in range(count):
        pixels = bases[index % len(bases)].astype(np.int16) + rng.normal(0, 6, (size[1], size[0], 3)).astype(np.int16)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        if index % 3 == 0:  # a third with real faces, at several sizes
            for k in range(1 + index % 4):
                face = face_crops[k % 2]
                scale = size[0] / 4032 * (0.4 + 0.5 * ((index + k) % 3))
                face = face.resize((int(face.width * scale * 2), int(face.height * scale * 2)))
                image.paste(face, (int(size[0] * (0.1 + 0.22 * k)), int(size[1] * 0.3)))
        orientation = 6 if index % 5 == 1 else 1  # some portrait photos, stored sideways
        if orientation == 6:
            image = image.transpose(Image.Transpose.ROTATE_90)
        image.save(folder / f"IMG_{index:04d}.jpg", "JPEG", quality=92, exif=camera_exif(index, orientation))
    if extras:
        import pillow_heif

        pillow_heif.register_heif_opener()
        for index in range(3):
            image = Image.fromarray(bases[index % len(bases)])
            image.save(folder / f"HEIC_{index}.heic", "HEIF", quality=85, exif=camera_exif(index, 1))
            image.save(folder / f"PNG_{index}.png", "PNG")


def make_people_workload(folder: Path, source: Path, count: int) -> None:
    """``count`` photos of people as a phone takes them: photos picked evenly (in name order)
    from ``source``, blown up to cover 4032x3024 (3024x4032 for portrait ones), cropped to it,
    with sensor-like noise and camera EXIF."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = sorted(p for p in source.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if len(pictures) < count:
        raise SystemExit(f"{source} holds {len(pictures)} photos, {count} wanted")
    rng = np.random.default_rng(2024)
    for index in range(count):
        image = Image.open(pictures[index * len(pictures) // count]).convert("RGB")
        size = (WIDTH, HEIGHT) if image.width >= image.height else (HEIGHT, WIDTH)
        f = max(size[0] / image.width, size[1] / image.height)
        image = image.resize((round(image.width * f), round(image.height * f)), Image.BICUBIC)
        left, top = (image.width - size[0]) // 2, (image.height - size[1]) // 2
        pixels = np.asarray(image.crop((left, top, left + size[0], top + size[1]))).astype(np.int16)
        pixels = pixels + rng.normal(0, 6, pixels.shape).astype(np.int16)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            folder / f"IMG_{index:04d}.jpg", "JPEG", quality=92, exif=camera_exif(index, 1))


# --- the floor --------------------------------------------------------------------------------

def _decode_encode(path: Path) -> int:
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(path) as image:
        image.load()
        out = io.BytesIO()
        fmt = "JPEG" if image.format in ("JPEG", "MPO", "HEIF") else image.format
        image.convert("RGB").save(out, fmt, quality=92) if fmt == "JPEG" else image.save(out, fmt)
    return out.tell()


def floor(folder: Path, jobs: int) -> None:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if jobs == 1:
        for path in files:
            _decode_encode(path)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_decode_encode, files))


# --- timing -----------------------------------------------------------------------------------

def timed(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def photoguard_clean(folder: Path, out: Path, jobs: int, *extra: str):
    def action():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([*PHOTOGUARD, "clean", str(folder), "-o", str(out), "-q", "-j", str(jobs), *extra],
                       check=True)
    return action


def exiftool_strip(folder: Path, out: Path):
    def action():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        subprocess.run(["exiftool", "-q", "-all=", "-o", str(out) + "/", str(folder)], check=True)
    return action


def deface_run(folder: Path, scratch: Path, deface: str):
    """deface over hard links to the photos (it writes its copies beside its inputs)."""
    def action():
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for path in sorted(folder.iterdir()):
            try:
                (scratch / path.name).hardlink_to(path)
            except OSError:
                shutil.copy(path, scratch / path.name)
        subprocess.run([deface, str(scratch), "--scale", "1280x960", "--backend", "onnxrt"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return action


def peak_memory_mb(photo: Path, out: Path) -> float:
    """Peak resident memory of a worker's work on one photo or video, in MB: a fresh
    interpreter that cleans it as a worker process of `clean -j 1` does (one core, default
    options) and reports its own peak. (The command line's own run would not do: its worker is
    not the command's child, so its peak is not counted among the command's children.)"""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    code = ("import resource, sys; from pathlib import Path; from photoguard import clean_file; "
            "from photoguard.parts import detection; "
            "detection.use_cores(1); clean_file(Path(sys.argv[1]), Path(sys.argv[2])); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", code, str(photo), str(out / photo.name)], check=True,
                            capture_output=True, text=True)
    return int(result.stdout.split()[-1]) / 1024


def engine_rows(models: list[Path], runs: int) -> None:
    """One network pass per model file, side by side, as photoguard's session runs it (one
    thread): the shipped float model first, then e.g. tools/quantize_centerface.py's int8."""
    import hashlib

    from photoguard.parts.detect import centerface, runtime

    files = [centerface.MODEL_PATH, *models]
    sessions = [runtime.session(path, hashlib.sha256(path.read_bytes()).hexdigest()) for path in files]
    print(f"\nnetwork pass, one thread, median of {max(runs, 5)} (ratio to {files[0].name})")
    for width, height in ((640, 480), (1280, 960)):
        blob = np.random.default_rng(0).uniform(0, 255, (1, 3, height, width)).astype(np.float32)
        times = [timed(lambda s=s, blob=blob: s.run(None, {"input.1": blob}), max(runs, 5)) for s in sessions]
        print(f"{width}x{height}: " + ", ".join(
            f"{path.name} {1000 * t:.0f} ms ({t / times[0]:.2f})" for path, t in zip(files, times)))


def print_rows(title: str, rows: list, files: int, reference: str | None = None) -> None:
    """One table: seconds, ratio to the floor with the same -j, images per second, and the
    ratio to ``reference`` (a row's name) when given."""
    print(f"\n{title}")
    print(f"{'what':32} {'-j':>3} {'seconds':>9} {'x floor':>8} {'images/s':>9}"
          + (f" {'x ' + reference.split()[0]:>9}" if reference else ""))
    ref = {jobs: seconds for name, jobs, seconds, _ in rows if name == reference}
    for name, jobs, seconds, base in rows:
        extra = f" {seconds / ref[jobs]:9.2f}" if jobs in ref else ""
        print(f"{name:32} {jobs:>3} {seconds:9.2f} {seconds / base:8.2f} {files / seconds:9.2f}{extra}")


def time_rows(photos: Path, out: Path, jobs_list, args, extra=()) -> list:
    """(name, jobs, seconds, floor seconds) for the floor, photoguard's settings and ``extra``
    (name, action) pairs, timed side by side."""
    rows = []
    for jobs in jobs_list:
        base = timed(lambda jobs=jobs: floor(photos, jobs), args.runs)
        rows.append(("floor (Pillow decode+encode)", jobs, base, base))
        candidates = [("clean --no-faces", photoguard_clean(photos, out, jobs, "--no-faces")),
                      ("clean (defaults)", photoguard_clean(photos, out, jobs))]
        if "thorough" not in args.skip:
            candidates.append(("clean --thorough", photoguard_clean(photos, out, jobs, "--thorough")))
        candidates += [(name, action) for name, action, for_jobs in extra if for_jobs == jobs]
        for name, action in candidates:
            runs = args.thorough_runs if "thorough" in name else args.runs
            rows.append((name, jobs, timed(action, runs), base))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scratch", type=Path, required=True, help="folder for the generated workload")
    parser.add_argument("--count", type=int, default=50, help="12 MP JPEGs to generate (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is printed")
    parser.add_argument("--thorough-runs", type=int, default=1,
                        help="runs for the --thorough rows, which take minutes each (default 1)")
    parser.add_argument("--people", type=Path, help="a folder of photos of people for the people workload")
    parser.add_argument("--people-count", type=int, default=24, help="photos in the people workload (default 24)")
    parser.add_argument("--deface", help="the deface command (default: deface on PATH, if any)")
    parser.add_argument("--models", type=Path, nargs="*", default=[],
                        help="other CenterFace files to time against the shipped one (e.g. int8)")
    parser.add_argument("--skip", nargs="*", default=[],
                        help="rows to skip: mixed thorough exiftool scale big deface")
    args = parser.parse_args()

    if args.models:
        engine_rows(args.models, args.runs)
    photos = args.scratch / "photos"
    out = args.scratch / "out"
    if "mixed" not in args.skip:
        if not photos.exists():
            print(f"generating {args.count} 12 MP photos in {photos} ...", file=sys.stderr)
            make_workload(photos, args.count)
        files = sum(1 for p in photos.iterdir() if p.is_file())
        extra = [("exiftool -all=", exiftool_strip(photos, out), 1)] if (
            shutil.which("exiftool") and "exiftool" not in args.skip) else []
        rows = time_rows(photos, out, (1, 2), args, extra)
        print_rows(f"mixed: {files} files ({args.count} JPEGs of {WIDTH}x{HEIGHT}, 3 HEIC, 3 PNG), "
                   f"median of {args.runs} runs", rows, files)
        by = {(name, jobs): seconds for name, jobs, seconds, _ in rows}
        for name in ("floor (Pillow decode+encode)", "clean (defaults)", "clean --no-faces"):
            print(f"-j 2 speed-up, {name}: {by[(name, 1)] / by[(name, 2)]:.2f}")

    if args.people:
        people = args.scratch / f"people{args.people_count}"
        if not people.exists():
            print(f"generating {args.people_count} 12 MP photos of people in {people} ...", file=sys.stderr)
            make_people_workload(people, args.people, args.people_count)
        deface = args.deface or shutil.which("deface")
        extra = [("deface --scale 1280x960", deface_run(people, args.scratch / "deface", deface), 2)] if (
            deface and "deface" not in args.skip) else []
        rows = time_rows(people, out, (2,), args, extra)
        print_rows(f"people: {args.people_count} JPEGs of {WIDTH}x{HEIGHT}, every one with people, "
                   f"median of {args.runs} runs", rows, args.people_count, extra[0][0] if extra else None)
        if not extra:
            print("deface: not found (--deface PATH, or put it on PATH); its row is skipped")
        photos = people

    if not photos.exists():  # no workload asked for: the engine rows alone
        return
    one = sorted(photos.glob("*.jpg"))[0]
    print(f"peak memory, one worker, 12 MP photo (clean -j 1): "
          f"{peak_memory_mb(one, args.scratch / 'one'):.0f} MB")
    if "big" not in args.skip:
        big = args.scratch / "big" / "big_faces.jpg"
        if not big.exists():
            big.parent.mkdir(parents=True, exist_ok=True)
            image = Image.fromarray(backgrounds()[0]).resize((12000, 8500))
            for k, face in enumerate(faces()):  # faces to obscure: the copy is decoded and re-encoded
                image.paste(face.resize((face.width * 4, face.height * 4)), (2000 + 4000 * k, 3000))
            image.save(big, "JPEG", quality=90)
        print(f"peak memory, 100 MP photo with faces (12000x8500, clean -j 1): "
              f"{peak_memory_mb(big, args.scratch / 'big-out'):.0f} MB")
    if "scale" not in args.skip:
        small = args.scratch / "small1000"
        if not small.exists():
            make_workload(small, 1000, size=(1024, 768), extras=False)
        fifty = args.scratch / "small50"
        if not fifty.exists():
            fifty.mkdir()
            for path in sorted(small.iterdir())[:50]:
                shutil.copy(path, fifty / path.name)
        per_50 = timed(photoguard_clean(fifty, out, 2), args.runs) / 50
        per_1000 = timed(photoguard_clean(small, out, 2), 1) / 1000
        print(f"time per file, 1 MP photos, -j 2: 50 files {per_50 * 1000:.1f} ms, 1000 files "
              f"{per_1000 * 1000:.1f} ms, ratio {per_1000 / per_50:.2f}")
    help_time = timed(lambda: subprocess.run([*PHOTOGUARD, "--help"], check=True, capture_output=True), 5)
    print(f"photoguard --help: {help_time:.3f} s")


if __name__ == "__main__":
    main()
