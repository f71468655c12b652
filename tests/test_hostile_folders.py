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
