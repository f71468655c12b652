"""Unlucky and hostile output folders: every promise holds, each failure named in one line."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import tree_hashes, write_leaky_jpeg

from photoguard.batch.plan import find_inputs, plan_outputs
from photoguard.cli import cli


def link_or_skip(link: Path, target: Path) -> None:
    """A symbolic link at ``link``, or the test skipped where the system makes none."""
    try:
        link.symlink_to(target)
    except OSError:
        pytest.skip("this system makes no symbolic links")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_photo(folder: Path, name: str = "a.jpg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_leaky_jpeg(folder / name)


def test_an_output_folder_that_holds_the_input_is_refused(tmp_path, fake_detector, monkeypatch):
    fake_detector()
    one_photo(tmp_path / "photos" / "photos")  # its copy's path in "." would be the original's
    monkeypatch.chdir(tmp_path)
    before = tree_hashes(tmp_path)
    for extra in ([], ["--overwrite"]):
        result = run("clean", "photos", "-o", ".", *extra)
        assert result.exit_code == 2 and "holds the original" in result.stderr
        assert tree_hashes(tmp_path) == before


def test_an_earlier_output_folder_inside_the_input_is_named_and_other_safe_folders_walked(tmp_path, fake_detector):
    fake_detector()
    one_photo(tmp_path / "in" / "beach-safe")  # a folder of the user's, named so by chance
    run("clean", tmp_path / "in", "-o", tmp_path / "in" / "old")  # refused: inside the input
    one_photo(tmp_path / "in" / "copies-safe" / ".photoguard", "x.jpg")
    result = run("clean", tmp_path / "in", "--json")
    lines = {Path(item["input"]).name: item for item in map(json.loads, result.stdout.splitlines())}
    assert lines["a.jpg"]["status"] == "cleaned"
    assert lines["copies-safe"]["status"] == "skipped" and "left out" in lines["copies-safe"]["error"]
    assert "copies-safe" in result.stderr and "left out" in result.stderr


def test_names_differing_only_in_unicode_normalisation_get_distinct_copies(tmp_path):
    composed, decomposed = (unicodedata.normalize(form, "caf\u00e9.jpg") for form in ("NFC", "NFD"))
    folder = tmp_path / "in"
    one_photo(folder, composed)
    try:
        one_photo(folder, decomposed)
    except OSError:
        pytest.skip("this file system cannot hold both names")
    if len(os.listdir(folder)) < 2:
        pytest.skip("this file system folds the two names into one")
    jobs = plan_outputs(find_inputs([folder]), tmp_path / "out", "keep")
    folded = {unicodedata.normalize("NFC", str(job.dst)).casefold() for job in jobs}
    assert len(folded) == 2


def test_a_file_at_a_copys_path_that_photoguard_did_not_write_is_named_and_not_called_safe(tmp_path, fake_detector):
    fake_detector()
    folder, out = tmp_path / "in", tmp_path / "out"
    original = one_photo(folder)
    out.mkdir()
    (out / "a.jpg").write_bytes(original.read_bytes())  # a manual copy, GPS and all
    result = run("clean", folder, "-o", out)
    assert result.exit_code == 1
    assert "a.jpg" in result.stderr and "did not write" in result.stderr
    assert "safe copies in" not in result.stderr and "not all of it is safe" in result.stderr
    assert (out / "a.jpg").read_bytes() == original.read_bytes()


def outside_and_out(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A photo folder, an output folder with its state, and a folder outside both to guard."""
    one_photo(tmp_path / "in")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "diary.txt").write_text("mine")
    return tmp_path / "in", tmp_path / "out", tree_hashes(outside)


@pytest.mark.parametrize("where", [".photoguard", ".photoguard/state.jsonl", ".photoguard/state.jsonl.tmp",
                                   ".photoguard/lock"])
def test_a_link_in_the_state_folder_is_refused_and_nothing_outside_changes(tmp_path, fake_detector, where):
    fake_detector()
    folder, out, before = outside_and_out(tmp_path)
    assert run("clean", folder, "-o", out).exit_code == 0
    target = tmp_path / "outside" / ("diary.txt" if where != ".photoguard" else "")
    link = out / where
    if link.is_dir():
        for child in link.iterdir():
            child.unlink()
        link.rmdir()
    else:
        link.unlink(missing_ok=True)
    link_or_skip(link, target)
    write_leaky_jpeg(folder / "b.jpg")
    result = run("clean", folder, "-o", out)
    assert result.exit_code == 2 and "link" in result.stderr and len(result.stderr.splitlines()) == 1
    assert tree_hashes(tmp_path / "outside") == before


def test_a_link_loop_at_the_lock_is_one_line(tmp_path, fake_detector):
    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    (out / ".photoguard").mkdir(parents=True)
    link_or_skip(out / ".photoguard" / "lock", out / ".photoguard" / "lock")
    result = run("clean", folder, "-o", out)
    assert result.exit_code == 2 and "Traceback" not in result.output and len(result.stderr.splitlines()) == 1


def blocked_state(out: Path, where: str) -> None:
    """Writing made impossible in a way that holds for root too (chmod does not stop root)."""
    if where == "output":  # the output folder's place is taken by a file
        out.parent.mkdir(exist_ok=True)
        (out.parent / "card").write_text("x")
    elif where == "state folder":
        out.mkdir()
        (out / ".photoguard").write_text("a file where the state folder goes")
    else:
        (out / ".photoguard" / "state.jsonl").mkdir(parents=True)


@pytest.mark.parametrize("where", ["output", "state folder", "state file"])
def test_an_output_folder_that_cannot_be_written_is_a_usage_error(tmp_path, fake_detector, where):
    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    blocked_state(out, where)
    target = tmp_path / "card" / "safe" if where == "output" else out
    result = run("clean", folder, "-o", target)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1 and "output folder" in result.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("read_only", ["out", "parent", "state"])
def test_read_only_output_folders_are_a_usage_error(tmp_path, fake_detector, read_only):
    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    out.mkdir()
    (out / ".photoguard").mkdir()
    (out / ".photoguard" / "state.jsonl").write_text("")
    paths = {"out": out, "parent": tmp_path, "state": out / ".photoguard" / "state.jsonl"}
    paths[read_only].chmod(0o555 if read_only != "state" else 0o444)
    try:
        result = run("clean", folder, "-o", out) if read_only != "parent" else run("clean", folder)
    finally:
        paths[read_only].chmod(0o755)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_full_disk_while_the_state_is_written_ends_with_a_summary_and_the_rerun_knows_its_copies(
        tmp_path, fake_detector, monkeypatch):
    from photoguard.batch import state

    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    write_leaky_jpeg(folder / "b.jpg")
    write_leaky_jpeg(folder / "c.jpg")
    real, writes = os.write, []

    def full_after_the_first(fd, data):
        writes.append(data)
        if len(writes) > 1:
            raise OSError(28, "No space left on device")
        return real(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(state, "_append", lambda fd, data: full_after_the_first(fd, data), raising=False)
        result = run("clean", folder, "-o", out)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "1 cleaned" in result.stderr and "No space left" in result.stderr
    again = run("clean", folder, "-o", out, "--json")
    assert again.exit_code == 0, again.output
    assert "did not write" not in again.output


def test_a_run_into_a_subfolder_of_a_running_runs_output_is_refused(tmp_path, fake_detector):
    from photoguard.batch.state import OutputState

    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    with OutputState(out):
        result = run("clean", folder, "-o", out / "sub")
    assert result.exit_code == 2 and "another photoguard run" in result.stderr
    assert not (out / "sub" / "a.jpg").exists()


def test_a_link_at_the_review_folder_is_refused_and_nothing_outside_changes(tmp_path, fake_detector):
    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    elsewhere = tmp_path / "elsewhere"  # holding only files named like previews
    elsewhere.mkdir()
    (elsewhere / "00001.jpg").write_bytes(b"a photo of mine")
    before = tree_hashes(elsewhere)
    out.mkdir()
    link_or_skip(out / "photoguard-review", elsewhere)
    result = run("clean", folder, "-o", out, "--review")
    assert result.exit_code == 2 and "link" in result.stderr and "Traceback" not in result.output
    assert tree_hashes(elsewhere) == before
    assert not (out / "a.jpg").exists()  # refused before any work


@pytest.mark.skipif(os.name == "nt", reason="a signal sent to this process is POSIX")
def test_ctrl_c_pressed_three_times_quickly_stops_once_and_cleans_up(tmp_path, fake_detector, monkeypatch):
    import signal

    from photoguard import batch
    from photoguard.parts import atomic

    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    pressed, cleaned_up, real_removal = [], [], atomic.remove_temporaries

    def first_press(job, options):
        pressed.append(1)
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("not reached: the press stops the run")

    def removal_pressed_twice(folders, tag=None):
        if pressed:  # two more presses while the stopped run cleans up
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            cleaned_up.append(1)
        return real_removal(folders, tag)

    monkeypatch.setattr(batch, "clean_job", first_press)
    monkeypatch.setattr(atomic, "remove_temporaries", removal_pressed_twice)
    try:
        result = CliRunner().invoke(cli, ["clean", str(folder), "-o", str(out)])
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert pressed and cleaned_up and result.exit_code == 130, result.output
    assert "interrupted: " in result.stderr and "Traceback" not in result.output


_BATCH_KILLED_MID_FILE = """
import multiprocessing, threading, time
from photoguard.batch.executors.local import LocalPool

def report():
    while not multiprocessing.active_children():
        time.sleep(0.05)
    print(multiprocessing.active_children()[0].pid, flush=True)

threading.Thread(target=report, daemon=True).start()
list(LocalPool(1).run(time.sleep, [(0, (60,), 0)]))  # a file that takes a minute
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc to see whether the worker runs")
def test_workers_end_promptly_when_the_batch_process_is_killed():
    import subprocess
    import sys
    import time

    batch = subprocess.Popen([sys.executable, "-c", _BATCH_KILLED_MID_FILE], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    worker = int(batch.stdout.readline())
    assert _running(worker)
    batch.kill()
    batch.wait()
    deadline = time.monotonic() + 5
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(worker)


def test_temporary_files_are_removed_only_inside_the_output_folder(tmp_path, fake_detector):
    fake_detector()
    folder, out, _ = outside_and_out(tmp_path)
    one_photo(folder / "sub")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".photoguard-draft.tmp").write_text("named like a temporary file, but someone else's")
    before = tree_hashes(elsewhere)
    out.mkdir()
    link_or_skip(out / "sub", elsewhere)
    result = run("clean", folder, "-o", out)
    assert result.exit_code == 1 and "leads outside" in result.stderr
    assert tree_hashes(elsewhere) == before
