#!/usr/bin/env python3
"""Video speed: photoguard against deface and against the cost of one decode and one encode.

    python bench/video_speed.py CLIP [--jobs 2] [--deface PATH] [--memory 4K_CLIP] [--scratch DIR]

Times, side by side in one run and each in a fresh process (wall clock):

  floor      one decode and one H.264 encode of CLIP with photoguard's encoder settings (PyAV)
  no-faces   photoguard clean --no-faces CLIP -j JOBS   (container rewrite and check)
  clean      photoguard clean CLIP -j JOBS              (defaults: faces found, obscured, re-encoded)
  deface     deface --keep-audio CLIP                   (when --deface points to its executable)

and prints frames per second for each (wall clock) and the ratios clean/floor and deface/clean.
With ``--memory``, also the peak resident memory of one worker's work on that clip (as
bench/speed.py measures it). Timings on a shared machine are provisional: run it again on a
quiet one.
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
from photoguard.media.video import encoder
from photoguard.media.video.probe import probe
from photoguard.media.video.source import Source
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


def timed(command: list[str]) -> float:
    """Wall seconds of a command run to its end. (Not CPU time: photoguard's worker processes
    are not the command's children, so the operating system does not count them for it.)"""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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
    print(f"{args.clip.name}: {count} frames, photoguard -j {args.jobs}")
    for name, wall in seconds.items():
        print(f"  {name:9s} {wall:7.1f} s  {count / wall:6.1f} frames/s")
    print(f"  clean / floor: {seconds['clean'] / seconds['floor']:.2f}x the time")
    if "deface" in seconds:
        print(f"  deface / clean: {seconds['deface'] / seconds['clean']:.2f}x the time")
    if args.memory:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from speed import peak_memory_mb

        print(f"  peak memory of one worker on {args.memory.name}: {peak_memory_mb(args.memory, args.scratch / 'memory'):.0f} MB")


if __name__ == "__main__":
    main()
