#!/usr/bin/env python3
"""Cluster benchmark: the same photos cleaned by 2 Dask workers through a scheduler, and by
`photoguard clean -j 2` on this machine, side by side in one run.

Starts `dask scheduler` and `dask worker --nworkers 2 --nthreads 1` as separate processes (as
the README says to), then alternates the two runs --runs times over the same photos (bench/
speed.py's workload: 12 MP camera-like JPEGs, a third with faces), each into an empty output
folder. Prints the median of each, their ratio (target: the cluster within 10% of the local
run), the scheduler's overhead per photo, and photos per second per worker core.

    python bench/cluster.py --scratch /tmp/pg-cluster [--count 50] [--runs 3]

Needs the cluster extra: pip install ".[cluster]".
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import PHOTOGUARD, make_workload  # noqa: E402

WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_cluster(port: int) -> list[subprocess.Popen]:
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", str(WORKERS), "--nthreads", "1",
                                "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(WORKERS, timeout=60)
    return [workers, scheduler]


def clean(photos: Path, out: Path, *how: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([*PHOTOGUARD, "clean", str(photos), "-o", str(out), "-q", *how], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scratch", type=Path, required=True, help="folder for the photos and copies")
    parser.add_argument("--count", type=int, default=50, help="12 MP photos (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the median is printed")
    args = parser.parse_args()

    photos = args.scratch / "photos"
    if not photos.exists():
        print(f"generating {args.count} 12 MP photos in {photos} ...", file=sys.stderr)
        make_workload(photos, args.count, extras=False)
    count = sum(1 for p in photos.iterdir() if p.is_file())
    port = free_port()
    processes = start_cluster(port)
    try:
        local, remote = [], []
        for _ in range(args.runs):  # alternated, so that a noisy moment weighs on both
            local.append(clean(photos, args.scratch / "local", "-j", str(WORKERS)))
            remote.append(clean(photos, args.scratch / "cluster", "--scheduler", f"tcp://127.0.0.1:{port}"))
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
    same = all((args.scratch / "local" / p.name).read_bytes() == (args.scratch / "cluster" / p.name).read_bytes()
               for p in photos.iterdir())
    local_s, remote_s = statistics.median(local), statistics.median(remote)
    print(f"{count} photos of 12 MP, {WORKERS} workers of 1 thread each, median of {args.runs} runs")
    print(f"local   clean -j {WORKERS}:           {local_s:8.2f} s  ({', '.join(f'{t:.2f}' for t in local)})")
    print(f"cluster clean --scheduler:      {remote_s:8.2f} s  ({', '.join(f'{t:.2f}' for t in remote)})")
    print(f"cluster / local: {remote_s / local_s:.3f}  (target <= 1.10)")
    print(f"scheduler overhead per photo: {(remote_s - local_s) / count * 1000:+.0f} ms")
    print(f"throughput per worker core: cluster {count / remote_s / WORKERS:.2f} photos/s, "
          f"local {count / local_s / WORKERS:.2f} photos/s")
    print(f"copies byte-identical: {same}")


if __name__ == "__main__":
    main()
