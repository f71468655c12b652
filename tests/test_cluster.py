"""The same batch on a Dask cluster: a LocalCluster of 2 worker processes, 1 thread each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import photo_pixels, write_leaky_jpeg
from fakes import STUCK_SIZE, stuck_while_checking_one_photo
from test_portable import copies, photos

import photoguard
from photoguard import batch
from photoguard.batch.executors import cluster as photoguard_cluster
from photoguard.batch.plan import find_inputs, plan_outputs
from photoguard.cli import cli
from photoguard.options import Options
from photoguard.parts import detection

distributed = pytest.importorskip("distributed", reason='the cluster extra is not installed: pip install ".[cluster]"')


@pytest.fixture(scope="module")
def dask_cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as local:
        yield local


@pytest.fixture
def client(dask_cluster):
    with distributed.Client(dask_cluster.scheduler_address, set_as_default=False) as connected:
        yield connected


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def without_output_folder(items: list[dict], folder: Path) -> list[dict]:
    return [{**i, "output": i["output"] and str(Path(i["output"]).relative_to(folder))} for i in items]


def test_a_cluster_run_gives_the_copies_and_json_of_a_local_run_and_reruns_skip(tmp_path, dask_cluster):
    folder = photos(tmp_path / "in", 4, size=(480, 360))
    write_leaky_jpeg(folder / "astronaut.jpg", photo_pixels(64, 48))
    (folder / "notes.txt").write_text("not a photo")
    local = run("clean", folder, "-o", tmp_path / "local", "-j", "2", "--json")
    remote = run("clean", folder, "-o", tmp_path / "remote", "--json", "--scheduler", dask_cluster.scheduler_address)
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert copies(tmp_path / "remote") == copies(tmp_path / "local")
    assert without_output_folder(lines(remote), tmp_path / "remote") == \
        without_output_folder(lines(local), tmp_path / "local")
    assert lines(remote)[0]["input"] == str(folder / "astronaut.jpg")  # as given, not as the workers saw it
    assert remote.stderr.splitlines()[-1].startswith("5 cleaned, 1 skipped, 0 failed")

    again = run("clean", folder, "-o", tmp_path / "remote", "--json", "--scheduler", dask_cluster.scheduler_address)
    assert again.exit_code == 0
    assert [i["status"] for i in lines(again)] == ["skipped"] * 6
    assert "0 cleaned, 5 up to date" in again.stderr


def test_workers_build_the_detector_once_and_check_it_before_their_first_file(tmp_path, client):
    def detectors():
        return {key: id(detector) for key, detector in detection._detectors.items()}

    jobs = plan_outputs(find_inputs([photos(tmp_path / "in", 3)]), tmp_path / "out", "keep")
    list(batch.clean_batch(jobs, Options(), client))
    first = client.run(detectors)
    assert all(list(built) == [("centerface", None, False)] for built in first.values()), first
    list(batch.clean_batch(jobs, Options(mode="fill", overwrite=True), client))
    assert client.run(detectors) == first  # the same detector objects served the second batch


def test_a_worker_killed_during_a_batch_loses_nothing(tmp_path, client, dask_cluster):
    folder = photos(tmp_path / "in", 6, size=(480, 360))
    reference = tmp_path / "reference"
    assert run("clean", folder, "-o", reference, "-j", "2", "-q").exit_code == 0
    jobs = plan_outputs(find_inputs([folder]), tmp_path / "out", "keep")
    pids = client.run(os.getpid)
    results = []
    for result in batch.clean_batch(jobs, Options(), client):
        if not results:  # the first copy is in: kill one worker in the middle of its next file
            os.kill(next(iter(pids.values())), signal.SIGKILL)
        results.append(result)
    assert [r.status for r in results] == ["cleaned"] * 6, [r.error for r in results]
    assert copies(tmp_path / "out") == copies(reference)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".photoguard-")]
    client.wait_for_workers(2, timeout=60)  # its nanny started a new one


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setattr(photoguard_cluster, "CONNECT_SECONDS", 1)
    folder = photos(tmp_path / "in", 1)
    result = run("clean", folder, "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in line
    assert not (tmp_path / "out").exists()


def test_without_dask_the_scheduler_option_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = run("clean", photos(tmp_path / "in", 1), "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2
    assert 'pip install "photoguard[cluster]"' in result.stderr


def test_jobs_and_a_scheduler_do_not_go_together(tmp_path):
    result = run("clean", photos(tmp_path / "in", 1), "-j", "2", "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2 and "--scheduler" in result.stderr


def test_ctrl_c_cancels_the_cluster_work_and_exits_130(tmp_path, dask_cluster):
    folder = photos(tmp_path / "in", 16, size=(800, 600))
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "photoguard", "clean", str(folder), "-o", str(out),
                                "--scheduler", dask_cluster.scheduler_address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(out.glob("p*.jpg")):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted: " in stderr and "Traceback" not in stderr
    assert 0 < len(copies(out)) < 16
    assert not [p for p in out.iterdir() if p.name.startswith(".photoguard-")]
    deadline = time.monotonic() + 20  # the scheduler forgets the cancelled files
    while time.monotonic() < deadline and any(str(key).startswith("photoguard-") for key in dask_cluster.scheduler.tasks):
        time.sleep(0.2)
    assert not [key for key in dask_cluster.scheduler.tasks if str(key).startswith("photoguard-")]


def test_any_executor_with_submit_runs_the_batch_and_keeps_the_budget(tmp_path, fake_detector, monkeypatch):
    detector = fake_detector([(10, 10, 40, 40)])
    slow_size = (300, 200)
    monkeypatch.setattr(detector, "detect",
                        lambda rgb: time.sleep(3) or [] if rgb.shape[1::-1] == slow_size else detector.faces)
    folder = photos(tmp_path / "in", 3)
    write_leaky_jpeg(folder / "p01.jpg", photo_pixels(*slow_size))
    with ThreadPoolExecutor(2) as executor:
        results = list(photoguard.clean_paths([folder], tmp_path / "out", Options(max_seconds=1), executor))
    assert [r.status for r in results] == ["cleaned", "failed", "cleaned"]
    assert "gave up after 1 seconds" in results[1].error
    assert sorted(copies(tmp_path / "out")) == ["p00.jpg", "p02.jpg"]
    # its thread could not be stopped: what it writes when it ends late is removed, not left
    (runaway,) = [t for t in threading.enumerate() if t.name == "photoguard-file"]
    runaway.join(10)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".photoguard", "p00.jpg", "p02.jpg"]


class StuckWorkerPlugin(distributed.WorkerPlugin):
    """Installs fakes.stuck_while_checking_one_photo in every worker process."""

    def setup(self, worker):
        stuck_while_checking_one_photo()


def test_a_file_over_its_budget_fails_and_its_worker_is_replaced(tmp_path):

    folder = photos(tmp_path / "in", 3)
    write_leaky_jpeg(folder / "p01.jpg", photo_pixels(*STUCK_SIZE, seed=1))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as local, \
            distributed.Client(local.scheduler_address, set_as_default=False) as client:
        client.register_plugin(StuckWorkerPlugin(), name="test-stuck")
        before = set(client.run(os.getpid).values())
        started = time.monotonic()
        results = list(photoguard.clean_paths([folder], tmp_path / "out", Options(max_seconds=3), client))
        assert time.monotonic() - started < 60
        assert [r.status for r in results] == ["cleaned", "failed", "cleaned"], [r.error for r in results]
        assert "gave up after 3 seconds" in results[1].error
        assert sorted(copies(tmp_path / "out")) == ["p00.jpg", "p02.jpg"]
        deadline = time.monotonic() + 30  # the stuck worker ended itself; its nanny started a new one
        while time.monotonic() < deadline and (len(client.nthreads()) < 2 or set(client.run(os.getpid).values()) & before == before):
            time.sleep(0.2)
        assert len(set(client.run(os.getpid).values()) - before) == 1
