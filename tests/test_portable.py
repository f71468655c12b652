"""What Windows and macOS need: no POSIX-only facility, spawned workers, a time budget kept by
the batch's own process, output names every file system takes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, photo_pixels, tree_hashes, write_leaky_jpeg
from fakes import STUCK_SIZE, stuck_while_checking_one_photo

from photoguard.batch import executors
from photoguard.batch.executors import LocalPool
from photoguard.batch.state import STATE_FOLDER
from photoguard.cli import cli

#: modules that exist only on POSIX systems
POSIX_ONLY = ("fcntl", "termios", "tty", "pty", "resource", "pwd", "grp", "syslog")

#: a sitecustomize that makes this Python look like Windows' to photoguard: no POSIX-only
#: modules, no SIGALRM or interval timers, no os.link, and only the spawn start method. It
#: applies to every process started with it on PYTHONPATH, spawned workers included.
WINDOWS_LIKE = textwrap.dedent(f"""
    import multiprocessing, os, signal, sys
    for name in {POSIX_ONLY!r}:
        sys.modules[name] = None  # "import name" now fails, as on Windows
    for name in ("SIGALRM", "setitimer", "alarm", "ITIMER_REAL"):
        if hasattr(signal, name):
            delattr(signal, name)
    del os.link
    multiprocessing.get_all_start_methods = lambda: ["spawn"]
    multiprocessing.set_start_method("spawn", force=True)
""")


def windows_like_env(tmp_path: Path) -> dict:
    folder = tmp_path / "windows-like"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(WINDOWS_LIKE)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(REPO)])}


def photos(folder: Path, count: int, size=(320, 240)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        write_leaky_jpeg(folder / f"p{index:02d}.jpg", photo_pixels(*size, seed=index))
    return folder


def copies(folder: Path) -> dict[str, str]:
    return {k: v for k, v in tree_hashes(folder).items() if not k.startswith(STATE_FOLDER)}


def test_importing_every_module_needs_no_posix_only_module(tmp_path):
    script = textwrap.dedent(f"""
        import builtins, importlib, pkgutil, sys
        real_import, culprits = builtins.__import__, []

        def watch(name, globals=None, *args, **kwargs):
            importer = (globals or {{}}).get("__name__", "")
            if name.split(".")[0] in {POSIX_ONLY!r} and importer.startswith("photoguard"):
                culprits.append((importer, name))
            return real_import(name, globals, *args, **kwargs)

        builtins.__import__ = watch
        import photoguard
        for module in pkgutil.walk_packages(photoguard.__path__, "photoguard."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
        assert not culprits, culprits
        assert not [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")], "Dask loaded"
        print("imported", len([m for m in sys.modules if m.startswith("photoguard")]))
    """)
    run = subprocess.run([sys.executable, "-c", script], env=windows_like_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.split()[-1]) > 20


def test_a_windows_like_python_makes_the_same_copies(tmp_path):
    folder = photos(tmp_path / "in", 3)
    command = [sys.executable, "-m", "photoguard", "clean", str(folder), "-j", "2", "--json", "-q"]
    here = subprocess.run(command + ["-o", str(tmp_path / "here")], capture_output=True, text=True, timeout=300)
    there = subprocess.run(command + ["-o", str(tmp_path / "there")], capture_output=True, text=True,
                           timeout=300, env=windows_like_env(tmp_path))
    assert here.returncode == there.returncode == 0, there.stderr
    assert copies(tmp_path / "here") == copies(tmp_path / "there")
    assert len(copies(tmp_path / "there")) == 3
    strip = lambda out: [{k: v for k, v in json.loads(line).items() if k != "output"} for line in out.splitlines()]
    assert strip(here.stdout) == strip(there.stdout)


def test_a_stuck_file_is_stopped_and_the_batch_goes_on(tmp_path, monkeypatch):
    folder = photos(tmp_path / "in", 3)
    write_leaky_jpeg(folder / "p01.jpg", photo_pixels(*STUCK_SIZE, seed=1))
    stuck = partial(LocalPool, setup=stuck_while_checking_one_photo, method="spawn")
    monkeypatch.setattr(executors, "LocalPool", stuck)
    out = tmp_path / "out"
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["clean", str(folder), "-o", str(out), "-j", "2", "--json",
                                      "--max-seconds", "4"], catch_exceptions=False)
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    items = {Path(i["input"]).name: i for i in map(json.loads, result.stdout.splitlines())}
    assert items["p01.jpg"]["status"] == "failed"
    assert "gave up after 4 seconds" in items["p01.jpg"]["error"] and "--max-seconds" in items["p01.jpg"]["error"]
    assert items["p00.jpg"]["status"] == items["p02.jpg"]["status"] == "cleaned"
    assert sorted(copies(out)) == ["p00.jpg", "p02.jpg"]  # nothing of the stuck one, not even a temporary file
    assert "p01.jpg" in result.stderr


def test_the_budget_is_kept_with_a_single_worker_too(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    write_leaky_jpeg(folder / "stuck.jpg", photo_pixels(*STUCK_SIZE))
    stuck = partial(LocalPool, setup=stuck_while_checking_one_photo, method="spawn")
    monkeypatch.setattr(executors, "LocalPool", stuck)
    result = CliRunner().invoke(cli, ["clean", str(folder), "-o", str(tmp_path / "out"), "-j", "1",
                                      "--max-seconds", "2"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "gave up after 2 seconds" in result.stderr
    assert copies(tmp_path / "out") == {}


@pytest.mark.parametrize("name, portable", [
    ("beach.jpg", "beach.jpg"), ("Émilie à la plage.jpg", "Émilie à la plage.jpg"),
    ("con.jpg", "con_.jpg"), ("CON", "CON_"), ("Lpt1.heic", "Lpt1_.heic"), ("com10.jpg", "com10.jpg"),
    ('what? "really": a|b<c>*.jpg', "what_ _really__ a_b_c__.jpg"), ("tab\there.jpg", "tab_here.jpg"),
    ("trailing. ", "trailing__"), ("dots...", "dots___"),
])
def test_output_names_every_file_system_takes(name, portable):
    from photoguard.batch.plan import portable_name

    assert portable_name(name) == portable


def test_a_name_too_long_is_shortened_keeping_its_suffix():
    from photoguard.batch.plan import NAME_MAX, portable_name

    name = portable_name("é" * 200 + ".jpg")
    assert name.endswith(".jpg") and len(name.encode()) <= NAME_MAX


def test_mirrored_names_are_made_portable_and_do_not_collide_by_case(tmp_path):
    from photoguard.batch.plan import find_inputs, plan_outputs

    folder = tmp_path / "in"
    (folder / "aux").mkdir(parents=True)
    for name in ("aux/con.jpg", "a?.jpg", "Photo.jpg", "photo.jpg"):
        write_leaky_jpeg(folder / name)
    jobs = plan_outputs(find_inputs([folder]), tmp_path / "out", "keep")
    names = sorted(str(job.dst.relative_to(tmp_path / "out")) for job in jobs)
    assert names == ["Photo.jpg", "a_.jpg", "aux_/con_.jpg", "photo-jpg.jpg"]


def test_long_windows_paths_use_the_extended_form():
    from photoguard.batch.plan import WINDOWS_MAX_PATH, Job, _long_paths_where_needed, extended_path

    assert extended_path("C:\\Users\\kim\\x") == "\\\\?\\C:\\Users\\kim\\x"
    assert extended_path("\\\\nas\\photos\\x") == "\\\\?\\UNC\\nas\\photos\\x"
    assert extended_path("\\\\?\\C:\\x") == "\\\\?\\C:\\x"
    root, short_root = Path("C:\\safe"), Path("C:\\other")
    deep = root / ("d" * (WINDOWS_MAX_PATH + 5) + ".jpg")
    jobs = [Job(Path("in/a.jpg"), Path("in"), "jpeg", dst=deep, out_root=root),
            Job(Path("in/b.jpg"), Path("in"), "jpeg", dst=root / "b.jpg", out_root=root),
            Job(Path("in/c.jpg"), Path("in"), "jpeg", dst=short_root / "c.jpg", out_root=short_root)]
    done = _long_paths_where_needed(jobs)
    assert [str(job.out_root).startswith("\\\\?\\") for job in done] == [True, True, False]
    assert all(job.dst.relative_to(job.out_root) == old.dst.relative_to(old.out_root) for job, old in zip(done, jobs))
