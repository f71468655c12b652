"""Review page at scale: 500 photos. How fast does the page open, and how big are the review files?

    python bench/review_scale.py                   # 500 photos of 1600x1200, in a temporary folder
    python bench/review_scale.py --count 100 --size 4032x3024 --keep /tmp/bench

Makes synthetic photos from the sample images (crops, flips, colour shifts, sensor-like
noise; JPEG quality 92, as phones write them), runs ``photoguard clean --review`` on them, then
opens the page in headless Chromium (Debian's /usr/bin/chromium, through Playwright) and
reports the time to first contentful paint and to the load event, and the size of the review
files (page + previews) against the cleaned copies. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> None:
    sources = [ImageOps.exif_transpose(Image.open(p)).convert("RGB")
               for p in sorted((REPO / "sample_images").glob("*.jpg"))]
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        source = sources[index % len(sources)]
        width, height = source.size
        crop = rng.uniform(0.7, 1.0)
        cw, ch = int(width * crop), int(height * crop)
        left, top = int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1))
        picture = source.crop((left, top, left + cw, top + ch))
        if index % 2:
            picture = ImageOps.mirror(picture)
        target = size if index % 3 else (size[1], size[0])  # a third are portrait
        picture = ImageOps.fit(picture, target, Image.Resampling.BICUBIC)
        pixels = np.asarray(picture).astype(np.float32) * rng.uniform(0.85, 1.15, 3)
        pixels += rng.normal(0, 3.0, pixels.shape)  # sensor noise: real photos are not smooth
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            folder / f"IMG_{index:04d}.jpg", "JPEG", quality=92)


def folder_size(paths) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


def open_times(page_path: Path, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as profile:
                context = playwright.chromium.launch_persistent_context(
                    profile, executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True,
                    viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(page_path.as_uri(), wait_until="load")
                page.wait_for_selector("html[data-ready=true]")
                wall = time.perf_counter() - started
                timing = page.evaluate("""() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    const paint = performance.getEntriesByType('paint').find(p => p.name === 'first-contentful-paint');
                    return {load: nav.loadEventEnd, dom: nav.domContentLoadedEventEnd, fcp: paint ? paint.startTime : null,
                            cards: document.querySelectorAll('article.photo').length,
                            images: [...document.images].filter(i => i.complete && i.naturalWidth).length};
                }""")
                timing["wall"] = wall * 1000
                results.append(timing)
                context.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", default="1600x1200", help="WIDTHxHEIGHT of the synthetic photos")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--runs", type=int, default=3, help="page loads to time, each with a fresh profile")
    parser.add_argument("--detector", default="centerface")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    work = args.keep or Path(tempfile.mkdtemp(prefix="review-scale-"))
    photos, out = work / "photos", work / "photos-safe"

    started = time.perf_counter()
    if not photos.exists() or len(list(photos.glob("*.jpg"))) != args.count:
        make_photos(photos, args.count, size)
    print(f"{args.count} photos of {size[0]}x{size[1]}: {folder_size(photos.iterdir()) / 1e6:.1f} MB "
          f"(made in {time.perf_counter() - started:.0f} s)")

    started = time.perf_counter()
    command = [sys.executable, "-m", "photoguard", "clean", str(photos), "-o", str(out), "--review",
               "--overwrite", "-q", "--detector", args.detector]
    subprocess.run(command, check=True)
    print(f"clean --review: {time.perf_counter() - started:.0f} s")

    page = out / "photoguard-review.html"
    review_files = [page, *(out / "photoguard-review").iterdir()]
    copies = [p for p in out.rglob("*") if p.is_file() and p not in review_files]
    review_bytes, copy_bytes = folder_size(review_files), folder_size(copies)
    print(f"review files: {review_bytes / 1e6:.2f} MB (page {page.stat().st_size / 1e3:.0f} kB), "
          f"cleaned copies: {copy_bytes / 1e6:.1f} MB, ratio {100 * review_bytes / copy_bytes:.1f} %")

    times = open_times(page, args.runs)
    for run in times:
        print(f"  first paint {run['fcp']:.0f} ms, DOMContentLoaded {run['dom']:.0f} ms, load {run['load']:.0f} ms, "
              f"ready (wall) {run['wall']:.0f} ms; {run['cards']} photos, {run['images']} previews loaded")
    print(f"page open, median of {len(times)}: load {statistics.median(t['load'] for t in times):.0f} ms, "
          f"first paint {statistics.median(t['fcp'] for t in times):.0f} ms")
    if not args.keep:
        print(f"(files left in {work})")


if __name__ == "__main__":
    main()
