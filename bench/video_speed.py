#!/usr/bin/env python3
"""Video speed: photoguard against deface and against the cost of one decode and one encode.

    python bench/video_speed.py CLIP [--jobs 2] [--deface PATH] [--memory 4K_CLIP] [--scratch DIR]

Times, side by side in one run and each in a fresh process (wall clock):

  floor      one decode and one H.264 encode of CLIP with photoguard's encoder settings (PyAV)
  no-faces   photoguard clean --no-faces CLIP -j JOBS   (container rewrite and check)
  clean      photoguard clean CLIP -j JOBS              (defaults: faces found, obscured, re-encoded)
  deface     deface --keep-audio CLIP                   (when --deface points to its executable)

and prints frames per second for each (wall clock), the CPU time each spent per frame (all its
threads and processes: steadier than the wall clock on a busy machine), and the ratios
clean/floor and deface/clean. With
``--memory``, also the peak resident memory of `photoguard clean -j 1` on that clip (one
worker). Timings on a shared machine are provisional: run it again on a quiet one.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av

PHOTOGUARD = [sys.executable, "-m", "photoguard"]
FLOOR = """
import sys, av
from photoguard.video import encoder
from photoguard.video.probe import probe
from photoguard.video.source import Source
from photoguard.options import Options
found = probe(Source(__import__("pathlib").Path(sys.argv[1])), Options())
with av.open(sys.argv[1]) as source, av.open(sys.argv[2], "w") as output:
    stream = source.streams.video[0]
    stream.thread_type = "AUTO"
    out, _ = encoder.add_video_stream(output, stream, found)
    for frame in source.decode(stream):
        frame.pict_type = 0
        for packet in out.encode(frame.reformat(format=out.pix_fmt)):
            output.mux(packet)
    for packet in out.encode():
        output.mux(packet)
"""


def frames(clip: Path) -> int:
    with av.open(str(clip)) as container:
        return sum(1 for _ in container.decode(video=0))


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a command run to its end."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def peak_memory_mb(clip: Path, out: Path) -> float:
    """Peak resident memory of `photoguard clean clip -j 1` (one worker), in a fresh child.

    The output folder is emptied first: a copy already up to date would be skipped."""
    shutil.rmtree(out, ignore_errors=True)
    command = [*PHOTOGUARD, "clean", str(clip), "-o", str(out), "-q", "-j", "1"]
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", code, *command], check=True, capture_output=True, text=True)
    return int(result.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--deface", default=None, help="deface's executable (in its own environment)")
    parser.add_argument("--memory", type=Path, default=None, help="a (4K) clip to measure one worker's peak memory on")
    parser.add_argument("--scratch", type=Path, default=Path("video-speed-scratch"))
    args = parser.parse_args()
    shutil.rmtree(args.scratch, ignore_errors=True)
    args.scratch.mkdir(parents=True)
    count = frames(args.clip)
    jobs = ["-j", str(args.jobs), "-q", "--max-seconds", "0"]  # measure, never give up
    seconds = {
        "floor": timed([sys.executable, "-c", FLOOR, str(args.clip), str(args.scratch / "floor.mp4")]),
        "no-faces": timed([*PHOTOGUARD, "clean", "--no-faces", str(args.clip), "-o", str(args.scratch / "nofaces"), *jobs]),
        "clean": timed([*PHOTOGUARD, "clean", str(args.clip), "-o", str(args.scratch / "clean"), *jobs]),
    }
    if args.deface:
        seconds["deface"] = timed([args.deface, "--keep-audio", str(args.clip), "-o", str(args.scratch / "deface.mp4")])
    print(f"{args.clip.name}: {count} frames, photoguard -j {args.jobs} (provisional on a shared machine)")
    for name, (wall, cpu) in seconds.items():
        print(f"  {name:9s} {wall:7.1f} s  {count / wall:6.1f} frames/s   CPU {1000 * cpu / count:6.1f} ms per frame")
    print(f"  clean / floor: {seconds['clean'][0] / seconds['floor'][0]:.2f}x the time, "
          f"{seconds['clean'][1] / seconds['floor'][1]:.2f}x the CPU")
    if "deface" in seconds:
        print(f"  deface / clean: {seconds['deface'][0] / seconds['clean'][0]:.2f}x the time, "
              f"{seconds['deface'][1] / seconds['clean'][1]:.2f}x the CPU")
    if args.memory:
        print(f"  peak memory of one worker on {args.memory.name}: {peak_memory_mb(args.memory, args.scratch / 'memory'):.0f} MB")


if __name__ == "__main__":
    main()
