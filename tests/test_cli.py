"""The command line, through click's CliRunner and once as a real process."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import photo_pixels, tree_hashes, write_leaky_jpeg
from PIL import Image

from photoguard.cli import cli


def photo_folder(tmp_path: Path) -> Path:
    """tmp_path/in holding one leaky photo, a.jpg."""
    (tmp_path / "in").mkdir()
    write_leaky_jpeg(tmp_path / "in" / "a.jpg")
    return tmp_path / "in"


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("command", [[], ["clean"], ["scan"]])
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    if command:
        assert "Exit codes" in result.output


def test_clean_folder_makes_safe_copies_and_leaves_originals(samples, fake_detector):
    fake_detector([(10, 10, 40, 40)])
    before = tree_hashes(samples)
    result = run("clean", samples, "--json", "-j", "1")
    assert result.exit_code == 0, result.output
    assert tree_hashes(samples) == before
    lines = json_lines(result.stdout)
    by_name = {Path(item["input"]).name: item for item in lines}
    assert by_name["README.md"]["status"] == "skipped"
    images = [item for item in lines if item["status"] != "skipped"]
    assert images and all(item["status"] == "cleaned" for item in images)
    for item in images:
        output = Path(item["output"])
        assert output.parent == samples.parent / "photos-safe"
        assert output.exists()
        assert set(item) == {"input", "output", "status", "faces", "removed", "dropped", "error"}
        assert item["faces"] == [{"box": [10, 10, 40, 40], "score": 0.9}]
    assert by_name["astronaut.heic"]["output"].endswith("astronaut.jpg")
    assert "gps" in by_name["astronaut_gps.jpg"]["removed"]
    assert "cleaned" in result.stderr and "photos-safe" in result.stderr


def test_summary_goes_to_stderr_and_stdout_stays_empty_without_json(tmp_path, fake_detector):
    fake_detector()
    photo_folder(tmp_path)
    result = run("clean", tmp_path / "in")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "1 cleaned, 0 skipped, 0 failed" in result.stderr


def test_output_inside_input_is_a_usage_error(samples):
    result = run("clean", samples, "-o", samples / "out")
    assert result.exit_code == 2
    assert "inside the input folder" in result.stderr
    assert not (samples / "out").exists()


def test_missing_input_is_a_usage_error(tmp_path):
    result = run("clean", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def _bomb_png(path: Path) -> None:
    """A tiny PNG that declares 60000 x 60000 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))


def test_bad_inputs_fail_one_line_each_and_the_batch_goes_on(tmp_path, fake_detector):
    fake_detector()
    folder = tmp_path / "in"
    folder.mkdir()
    write_leaky_jpeg(folder / "good.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "truncated.jpg").write_bytes((folder / "good.jpg").read_bytes()[:1500])
    (folder / "notes.jpg").write_text("this is not a photo\n")
    (folder / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    _bomb_png(folder / "bomb.png")
    (folder / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 100)  # a video cut short
    result = run("clean", folder, "-o", tmp_path / "out", "--json")
    assert result.exit_code == 1
    statuses = {Path(item["input"]).name: item for item in json_lines(result.stdout)}
    assert statuses["good.jpg"]["status"] == "cleaned"
    bad = ["empty.jpg", "truncated.jpg", "notes.jpg", "dangling.jpg", "bomb.png", "clip.mp4"]
    error_lines = result.stderr.strip().splitlines()[:-1]  # the last line is the summary
    assert len(error_lines) == len(bad)
    for name in bad:
        assert statuses[name]["status"] == "failed" and statuses[name]["error"]
        line = next(line for line in error_lines if name in line)
        assert line.startswith("photoguard: ") and "Traceback" not in line
    assert "megapixels" in statuses["bomb.png"]["error"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file()) == ["good.jpg"]
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_reported(tmp_path, fake_detector):
    fake_detector()
    (tmp_path / "in").mkdir()
    locked = write_leaky_jpeg(tmp_path / "in" / "locked.jpg")
    locked.chmod(0)
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "locked.jpg" in result.stderr


def test_existing_copies_are_kept_unless_overwrite(tmp_path, fake_detector):
    fake_detector()
    photo_folder(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.jpg").write_bytes(b"mine")
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out", "--json")
    assert result.exit_code == 1  # kept, but not called safe
    assert json_lines(result.stdout)[0]["status"] == "skipped"
    assert (tmp_path / "out" / "a.jpg").read_bytes() == b"mine"
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out", "--overwrite")
    assert result.exit_code == 0
    assert Image.open(tmp_path / "out" / "a.jpg").size == (320, 240)


def test_colliding_names_get_distinct_deterministic_outputs(tmp_path, fake_detector):
    fake_detector()
    photo_folder(tmp_path)
    Image.fromarray(photo_pixels()).save(tmp_path / "in" / "a.png")
    Image.fromarray(photo_pixels(seed=3)).save(tmp_path / "in" / "a.webp", "WEBP")
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out", "--format", "jpeg", "--json")
    assert result.exit_code == 0, result.output
    outputs = [Path(item["output"]).name for item in json_lines(result.stdout)]
    assert len(set(outputs)) == 3
    assert outputs == ["a.jpg", "a-png.jpg", "a-webp.jpg"]


def test_results_do_not_depend_on_the_number_of_workers(samples, tmp_path):
    one = run("clean", samples, "-o", tmp_path / "one", "-j", "1", "--json")
    two = run("clean", samples, "-o", tmp_path / "two", "-j", "2", "--json")
    assert one.exit_code == two.exit_code == 0
    strip = lambda items: [(Path(i["input"]).name, i["status"], i["faces"], i["removed"]) for i in items]
    assert strip(json_lines(one.stdout)) == strip(json_lines(two.stdout))
    assert tree_hashes(tmp_path / "one") == tree_hashes(tmp_path / "two")


def test_scan_json_lists_what_leaks_and_writes_nothing(tmp_path, fake_detector):
    fake_detector([(5, 6, 30, 40)])
    (tmp_path / "in").mkdir()
    write_leaky_jpeg(tmp_path / "in" / "a.jpg", orientation=6)
    before = tree_hashes(tmp_path)
    result = run("scan", tmp_path / "in", "--json")
    assert result.exit_code == 0
    assert tree_hashes(tmp_path) == before
    (item,) = json_lines(result.stdout)
    assert item["path"] == str(tmp_path / "in" / "a.jpg")
    assert (item["format"], item["width"], item["height"]) == ("jpeg", 240, 320)
    assert item["faces"] == [{"box": [5, 6, 30, 40], "score": 0.9}]
    assert item["metadata"]["gps"] == pytest.approx([48.858369, 2.294478], abs=1e-5)
    assert item["metadata"]["serials"] == ["SERIAL-123456"]
    for kind in ("gps", "thumbnail", "xmp", "comment"):
        assert kind in item["metadata"]["kinds"]
    assert {"trailer", "video"} & set(item["metadata"]["kinds"])
    assert any(risk.startswith("GPS 48.85837 N, 2.29448 E") for risk in item["risks"])


def test_scan_table_is_readable(tmp_path, fake_detector):
    fake_detector()
    photo_folder(tmp_path)
    result = run("scan", tmp_path / "in")
    assert result.exit_code == 0
    assert "GPS 48.85837 N, 2.29448 E" in result.stdout and "Pixel 8" in result.stdout


def test_control_characters_in_names_are_not_printed(tmp_path, fake_detector):
    fake_detector()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "evil\x1b[2J.jpg").write_bytes(b"not an image")
    result = run("clean", tmp_path / "in", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "evil?[2J.jpg" in result.stderr


def test_real_process_cleans_and_exits_zero(samples, tmp_path):
    out = tmp_path / "out"
    process = subprocess.run([sys.executable, "-m", "photoguard", "clean", str(samples), "-o", str(out),
                              "--json"], capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    cleaned = [item for item in json_lines(process.stdout) if item["status"] == "cleaned"]
    assert len(cleaned) == len([p for p in samples.iterdir() if p.suffix != ".md"])
    assert "Traceback" not in process.stderr


def test_a_file_given_by_name_may_be_cleaned_into_a_folder_beside_it(tmp_path, fake_detector):
    fake_detector()
    photo = write_leaky_jpeg(tmp_path / "a.jpg")
    result = run("clean", photo, "-o", tmp_path / "safe")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "safe" / "a.jpg").exists()
    refused = run("clean", photo, "-o", tmp_path, "--overwrite")
    assert refused.exit_code == 2 and "holds the original" in refused.stderr


def test_rename_gives_neutral_names_mapped_in_json(tmp_path, fake_detector):
    fake_detector()
    folder = tmp_path / "Emma 2024"
    (folder / "school trip").mkdir(parents=True)
    write_leaky_jpeg(folder / "school trip" / "Emma-2024-06-12.jpg")
    Image.fromarray(photo_pixels(seed=2)).save(folder / "IMG_20240612_Emma.png")
    result = run("clean", folder, "-o", tmp_path / "out", "--rename", "--json")
    assert result.exit_code == 0, result.output
    items = json_lines(result.stdout)
    names = sorted(Path(item["output"]).name for item in items)
    assert all(name.startswith("photo-") for name in names) and len(set(names)) == 2
    for item in items:
        assert Path(item["output"]).parent == tmp_path / "out"
        assert "Emma" not in item["output"] and "2024" not in item["output"]
    again = run("clean", folder, "-o", tmp_path / "out2", "--rename", "--json")
    assert sorted(Path(i["output"]).name for i in json_lines(again.stdout)) == names


@pytest.mark.parametrize("command", ["clean", "scan", "review"])
def test_a_damaged_model_stops_the_run_before_any_work(tmp_path, monkeypatch, command):
    from photoguard.parts.detect import centerface

    monkeypatch.setattr(centerface, "MODEL_SHA256", "0" * 64)
    folder = photo_folder(tmp_path)
    result = run(command, folder, "-o", tmp_path / "out") if command != "scan" else run(command, folder)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "damaged" in line and "reinstall photoguard" in line
    assert not (tmp_path / "out").exists() and result.stdout == ""


@pytest.mark.parametrize("option", ["--max-seconds", "--max-duration", "--threshold", "--mask-scale"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_limit_that_is_not_a_finite_number_is_a_usage_error(tmp_path, option, value):
    (tmp_path / "in").mkdir()
    result = CliRunner().invoke(cli, ["clean", str(tmp_path / "in"), option, value])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
