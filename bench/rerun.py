#!/usr/bin/env python3
"""Repeated runs: a second `photoguard clean` over the same photos and output does no work.

Generates 200 photo-like JPEGs (a third with faces, see bench/speed.py), times a first run and a
second run into the same output folder, then a third run after 10 photos changed, and prints the
ratios to the first run.

    python bench/rerun.py --scratch /tmp/pg-rerun [--count 200] [--size 2016x1512]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import PHOTOGUARD, make_workload  # noqa: E402


def timed_clean(photos: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([*PHOTOGUARD, "clean", str(photos), "-o", str(out), "-q"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", default="2016x1512", help="photo size, WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    photos, out = args.scratch / "photos", args.scratch / "out"
    if not photos.exists():
        make_workload(photos, args.count, size=(width, height), extras=False)
    shutil.rmtree(out, ignore_errors=True)
    first = timed_clean(photos, out)
    second = timed_clean(photos, out)
    for path in sorted(photos.iterdir())[:10]:  # change 10 photos
        shutil.copy(sorted(photos.iterdir())[-1], path)
    third = timed_clean(photos, out)
    print(f"{args.count} photos of {width}x{height}: first run {first:.1f} s, second run {second:.2f} s "
          f"({second / first:.1%} of the first), after 10 changed {third:.1f} s ({third / first:.1%})")


if __name__ == "__main__":
    main()
