#!/usr/bin/env python3
"""Long fuzzing run: mutate valid files and feed them to scan_file and clean_file.

Only photoguard's typed errors may escape, no output may be left for a failed file, and no
temporary file may be left behind. Inputs that break a rule are saved in --crashes.

    python bench/fuzz.py --minutes 30 --scratch /tmp/pg-fuzz
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import leaky_exif  # noqa: E402  (the tests' builders make the seed files)
from test_fuzz import SEEDS  # noqa: E402

from photoguard import Options, clean_file, scan_file  # noqa: E402
from photoguard.errors import PhotoguardError  # noqa: E402


def mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(data)) if data else 0
        kind = rng.choice(["flip", "cut", "duplicate", "zero", "insert", "ff"])
        if kind == "flip" and data:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == "cut":
            data = data[:at] + data[at + rng.randint(1, 256):]
        elif kind == "duplicate":
            length = rng.randint(1, 256)
            data = data[:at] + data[at : at + length] * rng.randint(2, 4) + data[at + length:]
        elif kind == "zero":
            length = rng.randint(1, 32)
            data[at : at + length] = bytes(len(data[at : at + length]))
        elif kind == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 32))
        else:
            data[at : at + 2] = b"\xff" + bytes([rng.randrange(256)])
    return bytes(data) or b"\0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    crashes = args.scratch / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    src, out = args.scratch / "input.bin", args.scratch / "out"
    options = Options(faces=False, max_pixels=4_000_000, overwrite=True)
    rng = random.Random(args.seed)
    assert leaky_exif  # the seeds carry EXIF built by the tests' helper
    tried = failed_typed = cleaned = found = 0
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline:
        name = rng.choice(sorted(SEEDS))
        data = mutate(rng, SEEDS[name])
        src.write_bytes(data)
        dst = out / "copy.img"
        dst.unlink(missing_ok=True)
        problem = None
        try:
            scan_file(src, options)
            clean_file(src, dst, options)
            cleaned += 1
        except PhotoguardError:
            failed_typed += 1
            if dst.exists():
                problem = "output written for a failed file"
        except Exception:  # noqa: BLE001 - this is what the fuzzer looks for
            problem = traceback.format_exc(limit=3)
        if out.exists() and any(p.name.startswith(".photoguard-") for p in out.iterdir()):
            problem = "temporary file left behind"
        tried += 1
        if problem:
            found += 1
            (crashes / f"{name}-{tried}.bin").write_bytes(data)
            (crashes / f"{name}-{tried}.txt").write_text(problem)
            print(f"[{tried}] {name}: {problem.splitlines()[-1]}", file=sys.stderr)
    print(f"inputs tried: {tried}; cleaned: {cleaned}; refused with a typed error: {failed_typed}; "
          f"problems found: {found} (saved in {crashes})")


if __name__ == "__main__":
    main()
