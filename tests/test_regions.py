"""The corrections file: validation, matching by content, and clean --regions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import photo_pixels, sha256, write_leaky_jpeg
from PIL import Image

from photoguard.cli import cli
from photoguard.errors import UsageError
from photoguard.parts import regions
from photoguard.parts.detect.base import Face


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def corrections_file(path: Path, photos: dict) -> Path:
    path.write_text(json.dumps({"photoguard": "regions", "version": 1, "photos": photos}))
    return path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def test_added_boxes_are_faces_and_kept_boxes_drop_overlapping_detections():
    digest = "a" * 64
    corrections = regions.parse({"photoguard": "regions", "version": 1, "photos": {
        digest: {"name": "x.jpg", "add": [[1, 2, 30, 40]], "keep": [[100, 100, 50, 50]]}}})
    detected = [Face((102, 98, 50, 52), 0.9), Face((10, 200, 40, 40), 0.8)]
    faces = corrections.faces_for(digest, detected)
    assert faces == [Face((10, 200, 40, 40), 0.8), Face((1, 2, 30, 40), regions.ADDED_SCORE)]
    assert corrections.faces_for("b" * 64, detected) == detected
    assert regions.parse(corrections.to_json()) == corrections


@pytest.mark.parametrize("document, message", [
    ([], "photoguard"),
    ({"photoguard": "regions", "version": 2, "photos": {}}, "version"),
    ({"photoguard": "regions", "version": 1, "photos": []}, "keyed by content hash"),
    ({"photoguard": "regions", "version": 1, "photos": {"abc": {}}}, "sha256"),
    ({"photoguard": "regions", "version": 1, "photos": {"a" * 64: {"add": [[1, 2, 3]]}}}, "[x, y, width, height]"),
    ({"photoguard": "regions", "version": 1, "photos": {"a" * 64: {"add": [[1, 2, 0, 5]]}}}, "out of range"),
    ({"photoguard": "regions", "version": 1, "photos": {"a" * 64: {"keep": [[-1, 2, 3, 5]]}}}, "out of range"),
    ({"photoguard": "regions", "version": 1, "photos": {"a" * 64: {"keep": [["1", 2, 3, 5]]}}}, "[x, y"),
    ({"photoguard": "regions", "version": 1, "photos": {"a" * 64: {"keep": "all"}}}, "list"),
])
def test_malformed_files_are_refused_with_a_plain_message(document, message):
    with pytest.raises(UsageError) as error:
        regions.parse(document)
    assert message in str(error.value)


def test_unreadable_and_non_json_files_are_usage_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        regions.load(tmp_path / "bad.json")
    (tmp_path / "nan.json").write_text('{"photoguard": "regions", "version": 1, "photos": {"%s": '
                                       '{"add": [[NaN, 1, 2, 3]]}}}' % ("a" * 64))
    with pytest.raises(UsageError):
        regions.load(tmp_path / "nan.json")
    result = run("clean", tmp_path, "--regions", tmp_path / "missing.json")
    assert result.exit_code == 2 and "cannot read the regions file" in result.stderr
    result = run("clean", tmp_path, "--regions", tmp_path / "bad.json")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr and "Traceback" not in result.output


def test_clean_with_regions_hides_added_keeps_kept_and_matches_renamed_files(tmp_path, fake_detector):
    fake_detector([(40, 40, 60, 60), (200, 120, 60, 60)])
    originals = tmp_path / "in"
    originals.mkdir()
    photo = write_leaky_jpeg(originals / "a.jpg", photo_pixels(320, 240, seed=4))
    untouched = run("clean", originals, "-o", tmp_path / "plain", "--format", "png", "--mode", "fill")
    assert untouched.exit_code == 0
    saved = corrections_file(tmp_path / "fix.json", {sha256(photo): {
        "name": "a.jpg", "add": [[10, 150, 50, 50]], "keep": [[200, 120, 60, 60]]}})
    renamed = tmp_path / "moved" / "deeper"
    renamed.mkdir(parents=True)
    shutil.copy(photo, renamed / "renamed.jpg")

    result = run("clean", renamed, "-o", tmp_path / "one", "--format", "png", "--mode", "fill", "--regions", saved, "--json")
    assert result.exit_code == 0, result.output
    boxes = [face["box"] for face in json.loads(result.stdout)["faces"]]
    assert boxes == [[40, 40, 60, 60], [10, 150, 50, 50]]

    source = np.asarray(Image.open(photo).convert("RGB")).astype(np.int16)
    fixed, plain = pixels(tmp_path / "one" / "renamed.png"), pixels(tmp_path / "plain" / "a.png")
    assert np.abs(fixed[160:190, 20:50] - source[160:190, 20:50]).mean() > 5  # added: obscured
    assert np.array_equal(fixed[120:180, 200:260], source[120:180, 200:260])  # kept: untouched
    assert np.abs(plain[120:180, 200:260] - source[120:180, 200:260]).mean() > 5  # obscured without the file
    assert np.array_equal(fixed[55:85, 55:85], plain[55:85, 55:85])  # the rest: as usual

    first = sha256(tmp_path / "one" / "renamed.png")
    again = run("clean", renamed, "-o", tmp_path / "one", "--format", "png", "--mode", "fill", "--regions", saved, "--overwrite")
    assert again.exit_code == 0
    assert sha256(tmp_path / "one" / "renamed.png") == first
    run("clean", renamed, "-o", tmp_path / "two", "--format", "png", "--mode", "fill", "--regions", saved)
    assert sha256(tmp_path / "one" / "renamed.png") == sha256(tmp_path / "two" / "renamed.png")


def test_regions_work_with_no_faces_and_leave_jpegs_unobscured_when_nothing_is_left(tmp_path, fake_detector):
    fake_detector([(40, 40, 60, 60)])
    (tmp_path / "in").mkdir()
    photo = write_leaky_jpeg(tmp_path / "in" / "a.jpg")
    saved = corrections_file(tmp_path / "fix.json", {sha256(photo): {"keep": [[41, 39, 60, 61]]}})
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out", "--regions", saved, "--json")
    assert json.loads(result.stdout)["faces"] == []
    assert np.abs(pixels(tmp_path / "out" / "a.jpg").astype(int) - pixels(photo)).mean() < 3
    saved = corrections_file(tmp_path / "add.json", {sha256(photo): {"add": [[100, 100, 40, 40]]}})
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out2", "--regions", saved, "--no-faces", "--json")
    assert json.loads(result.stdout)["faces"] == [{"box": [100, 100, 40, 40], "score": 1.0}]
