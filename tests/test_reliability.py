"""Backup-job behaviour: repeated runs, interruptions, concurrent runs, budgets, links."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import photo_pixels, tree_hashes, write_leaky_jpeg

from photoguard.batch.state import STATE_FOLDER, OutputState
from photoguard.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def statuses(result) -> dict[str, tuple[str, str | None]]:
    items = [json.loads(line) for line in result.stdout.splitlines()]
    return {Path(i["input"]).name: (i["status"], i["error"]) for i in items}


def copies(folder: Path) -> dict[str, str]:
    return {k: v for k, v in tree_hashes(folder).items() if not k.startswith(STATE_FOLDER)}


def photos(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        write_leaky_jpeg(folder / f"p{index:02d}.jpg", photo_pixels(seed=index))
    return folder


def test_a_second_run_redoes_only_what_changed(tmp_path, fake_detector):
    fake_detector([(20, 20, 40, 40)])
    folder, out = photos(tmp_path / "in", 3), tmp_path / "out"
    first = run("clean", folder, "-o", out, "--json")
    assert set(statuses(first).values()) == {("cleaned", None)}
    again = run("clean", folder, "-o", out, "--json")
    assert {status for status, _ in statuses(again).values()} == {"skipped"}
    assert all("up to date" in error for _, error in statuses(again).values())
    assert "0 cleaned, 3 up to date, 0 skipped, 0 failed" in again.stderr

    write_leaky_jpeg(folder / "p01.jpg", photo_pixels(seed=99))  # changed
    write_leaky_jpeg(folder / "p03.jpg", photo_pixels(seed=3))  # new
    third = statuses(run("clean", folder, "-o", out, "--json"))
    assert third["p00.jpg"][0] == "skipped"
    assert third["p01.jpg"] == ("cleaned", None) and third["p03.jpg"] == ("cleaned", None)

    other_options = statuses(run("clean", folder, "-o", out, "--json", "--mode", "pixelate"))
    assert {status for status, _ in other_options.values()} == {"cleaned"}


def test_a_copy_changed_by_someone_else_is_not_overwritten(tmp_path, fake_detector):
    fake_detector()
    folder, out = photos(tmp_path / "in", 1), tmp_path / "out"
    run("clean", folder, "-o", out)
    (out / "p00.jpg").write_bytes(b"edited by hand")
    write_leaky_jpeg(folder / "p00.jpg", photo_pixels(seed=5))
    status, error = statuses(run("clean", folder, "-o", out, "--json"))["p00.jpg"]
    assert status == "skipped" and "--overwrite" in error
    assert (out / "p00.jpg").read_bytes() == b"edited by hand"


def test_the_state_holds_no_names(tmp_path, fake_detector):
    fake_detector()
    folder = tmp_path / "Emma Garcia 2024"
    folder.mkdir()
    write_leaky_jpeg(folder / "Emma at school 2024-06-12.jpg")
    run("clean", folder, "-o", tmp_path / "out")
    state = b"".join(p.read_bytes() for p in (tmp_path / "out" / STATE_FOLDER).iterdir())
    for word in (b"Emma", b"2024", b"school", str(tmp_path).encode()):
        assert word not in state


def test_a_concurrent_run_on_the_same_output_is_refused(tmp_path, fake_detector):
    fake_detector()
    folder, out = photos(tmp_path / "in", 1), tmp_path / "out"
    with OutputState(out):
        result = run("clean", folder, "-o", out)
    assert result.exit_code == 2
    assert "another photoguard run" in result.stderr
    assert not (out / "p00.jpg").exists()


def test_output_path_blocked_by_a_file(tmp_path, fake_detector):
    fake_detector()
    folder = tmp_path / "in"
    photos(folder / "sub", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where a folder should be")
    result = run("clean", folder, "-o", out)
    assert result.exit_code == 1
    assert "p00.jpg" in result.stderr and "Traceback" not in result.output
    blocked = tmp_path / "blocked"
    blocked.write_text("x")
    assert run("clean", folder, "-o", blocked).exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder(tmp_path, fake_detector):
    fake_detector()
    folder, out = photos(tmp_path / "in", 1), tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    result = run("clean", folder, "-o", out)
    assert result.exit_code in (1, 2) and "Traceback" not in result.output


def test_copies_get_default_permissions_and_no_original_timestamps(tmp_path, fake_detector):
    fake_detector()
    folder = photos(tmp_path / "in", 1)
    os.utime(folder / "p00.jpg", (1_000_000_000, 1_000_000_000))
    old_umask = os.umask(0o022)
    try:
        run("clean", folder, "-o", tmp_path / "out")
    finally:
        os.umask(old_umask)
    copy = tmp_path / "out" / "p00.jpg"
    assert copy.stat().st_mode & 0o777 == 0o644
    assert abs(copy.stat().st_mtime - time.time()) < 600


def test_links_to_folders_are_not_followed_unless_asked(tmp_path, fake_detector):
    fake_detector()
    elsewhere = photos(tmp_path / "elsewhere", 1)
    folder = photos(tmp_path / "in", 1)
    (folder / "linked").symlink_to(elsewhere)
    (folder / "loop").symlink_to(folder)
    plain = statuses(run("clean", folder, "-o", tmp_path / "out1", "--json"))
    assert plain["linked"][0] == "skipped" and "--follow-links" in plain["linked"][1]
    followed = run("clean", folder, "-o", tmp_path / "out2", "--json", "--follow-links")
    assert followed.exit_code == 0
    assert (tmp_path / "out2" / "linked" / "p00.jpg").exists()


def test_output_links_leading_outside_are_not_written_through(tmp_path, fake_detector):
    fake_detector()
    folder = tmp_path / "in"
    photos(folder / "sub", 1)
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "sub").symlink_to(outside)
    result = run("clean", folder, "-o", out, "--json")
    assert result.exit_code == 1
    assert list(outside.iterdir()) == []


def _start(folder: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "photoguard", "clean", str(folder), "-o", str(out), "-j", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_stops_quickly_and_a_rerun_completes_it(tmp_path, signum, code):
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(12):
        write_leaky_jpeg(folder / f"p{index:02d}.jpg", photo_pixels(640, 480, seed=index))
    reference = tmp_path / "reference"
    assert subprocess.run([sys.executable, "-m", "photoguard", "clean", str(folder), "-o", str(reference),
                           "-q"], timeout=300).returncode == 0

    out = tmp_path / "out"
    process = _start(folder, out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(out.glob("p*.jpg")):
        time.sleep(0.05)
    process.send_signal(signum)
    sent = time.monotonic()
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - sent < 2.5
    assert process.returncode == code, stderr
    assert "interrupted: " in stderr and "Traceback" not in stderr  # with the summary
    assert not [p for p in out.iterdir() if p.name.startswith(".photoguard-")]
    assert len(copies(out)) < 12  # it did stop part way

    rerun = subprocess.run([sys.executable, "-m", "photoguard", "clean", str(folder), "-o", str(out), "-q"],
                           timeout=300)
    assert rerun.returncode == 0
    assert copies(out) == copies(reference)
