"""The review page as files: what is written, what it links, and what it must never hold."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import sha256, tree_hashes, write_leaky_jpeg
from PIL import Image

from photoguard import review
from photoguard.batch import executors
from photoguard.batch.executors import InProcess
from photoguard.batch.plan import portable_name
from photoguard.cli import cli

HOSTILE = "<script>alert(1)<!-- <img src=x onerror=alert(1)> & \"quoted\" 'x'.jpg"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def page_data(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_review_writes_a_page_and_previews_but_no_copies(samples, fake_detector):
    fake_detector([(30, 30, 60, 60)])
    shutil.copy(samples / "coffee_gps.jpg", samples / HOSTILE)
    before = tree_hashes(samples)
    result = run("review", samples, "-j", "1")
    assert result.exit_code == 0, result.output
    out = samples.parent / "photos-safe"
    page = out / review.PAGE_NAME
    assert result.stdout.strip() == str(page)
    assert tree_hashes(samples) == before
    assert sorted(p.name for p in out.iterdir()) == [review.FILES_FOLDER, review.PAGE_NAME]

    data = page_data(page)
    images = sorted(p.name for p in samples.iterdir() if p.suffix != ".md")
    names = [photo["name"] for photo in data["photos"]]
    assert sorted(names) == sorted(portable_name(n.replace(".heic", ".jpg")) for n in images)
    hashes = {sha256(samples / name) for name in images}
    for photo in data["photos"]:
        assert photo["hash"] in hashes
        thumb = out / photo["thumb"]
        with Image.open(thumb) as image:
            assert max(image.size) <= review.THUMB_SIDE and image.size == (photo["tw"], photo["th"])
        assert photo["faces"] and photo["original"].startswith("../photos/")
        assert any("GPS position will be removed" == risk for risk in photo["risks"]) or photo["name"].startswith("side")
    assert data["cleaned"] is False


def test_the_page_holds_no_paths_no_metadata_values_and_no_live_markup(samples, tmp_path, fake_detector):
    fake_detector()
    shutil.copy(samples / "coffee_gps.jpg", samples / HOSTILE)
    result = run("review", samples, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / review.PAGE_NAME).read_text(encoding="utf-8")
    assert str(tmp_path) not in html and "photos/" not in html
    for secret in ("29.5593", "Oak Street", "Emma", "PX8-4C7F19B2", "Pixel 8", "Daniel Example"):
        assert secret not in html
    assert "<img src=x" not in html and "alert" not in html.split('type="application/json">')[0]
    assert "<script>alert" not in html and "<!--" not in html
    assert html.count("</script>") == 2  # the data block and the code block, nothing from a name
    assert not re.search(r"""(src|href)=["']?(https?:|//)|<link|@import|url\(""", html)
    data = page_data(tmp_path / "out" / review.PAGE_NAME)
    assert portable_name(HOSTILE) in [photo["name"] for photo in data["photos"]]
    assert all(photo["original"] is None and "path" not in photo for photo in data["photos"])
    # no face anywhere: every photo is flagged
    assert all(photo["warnings"] for photo in data["photos"])

    assert run("review", samples, "-o", tmp_path / "shown", "-j", "1", "--show-paths").exit_code == 0
    data = page_data(tmp_path / "shown" / review.PAGE_NAME)
    photo = next(p for p in data["photos"] if p["name"] == "coffee_gps.jpg")
    assert photo["path"] == str(samples / "coffee_gps.jpg")
    assert (tmp_path / "shown" / photo["original"]).resolve() == (samples / "coffee_gps.jpg").resolve()


def test_flagged_photos_come_first(tmp_path, monkeypatch):
    from photoguard.parts import detection
    from photoguard.parts.detect.base import Face

    class Detector:
        def detect(self, rgb):  # a face in wide photos only, a doubtful one in tall photos
            if rgb.shape[1] > rgb.shape[0]:
                return [Face((10, 10, 40, 40), 0.95)]
            return [Face((10, 10, 40, 40), 0.3)] if rgb.shape[0] > rgb.shape[1] else []

    monkeypatch.setattr(detection, "get_detector", lambda options: Detector())
    monkeypatch.setattr(executors, "LocalPool", InProcess)  # the detector above lives in this process
    folder = tmp_path / "in"
    folder.mkdir()
    from conftest import photo_pixels

    write_leaky_jpeg(folder / "a_wide.jpg", photo_pixels(320, 240))
    write_leaky_jpeg(folder / "b_tall.jpg", photo_pixels(240, 320))
    write_leaky_jpeg(folder / "c_square.jpg", photo_pixels(240, 240))
    write_leaky_jpeg(folder / "d_wide.jpg", photo_pixels(320, 240, seed=2))
    assert run("review", folder, "-o", tmp_path / "out", "-j", "1").exit_code == 0
    photos = page_data(tmp_path / "out" / review.PAGE_NAME)["photos"]
    assert [p["name"] for p in photos] == ["b_tall.jpg", "c_square.jpg", "a_wide.jpg", "d_wide.jpg"]
    assert photos[0]["faces"][0]["low"] and "low score" in photos[0]["warnings"][0]
    assert "No face found" in photos[1]["warnings"][0]
    assert photos[2]["warnings"] == []


def test_clean_review_links_the_copies_and_shows_saved_corrections(tmp_path, fake_detector):
    fake_detector([(40, 40, 60, 60)])
    folder = tmp_path / "in"
    folder.mkdir()
    photo = write_leaky_jpeg(folder / "a.jpg")
    other = "b" * 64
    fix = tmp_path / "fix.json"
    fix.write_text(json.dumps({"photoguard": "regions", "version": 1, "photos": {
        sha256(photo): {"name": "a.jpg", "add": [[200, 100, 30, 30]], "keep": [[40, 40, 60, 60]]},
        other: {"name": "elsewhere.jpg", "add": [[1, 1, 5, 5]], "keep": []}}}))
    result = run("clean", folder, "--review", "--regions", fix, "--json", "-j", "1")
    assert result.exit_code == 0, result.output
    out = tmp_path / "in-safe"
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["cleaned"]
    assert f"review page: {out / review.PAGE_NAME}" in result.stderr
    data = page_data(out / review.PAGE_NAME)
    (entry,) = data["photos"]
    assert entry["large"] == "a.jpg" and entry["original"] == "../in/a.jpg"
    assert entry["faces"] == [] and entry["kept"] == [[40, 40, 60, 60]] and entry["added"] == [[200, 100, 30, 30]]
    assert data["others"] == {other: {"name": "elsewhere.jpg", "add": [[1, 1, 5, 5]], "keep": []}}
    assert data["cleaned"] is True and "GPS position removed" in entry["risks"]


def test_script_json_cannot_close_its_element():
    text = review.script_json({"name": "</script><!-- \u2028 & >"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!-- \u2028 & >"}


def test_review_and_clean_review_have_help():
    assert "Usage:" in run("review", "--help").output
    assert "--review" in run("clean", "--help").output


def test_a_preview_folder_holding_other_files_is_never_overwritten(tmp_path, fake_detector):
    fake_detector()
    (tmp_path / "in").mkdir()
    write_leaky_jpeg(tmp_path / "in" / "a.jpg")
    mine = tmp_path / "out" / review.FILES_FOLDER / "00001.jpg"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"mine")
    (mine.parent / "holiday.jpg").write_bytes(b"also mine")
    result = run("review", tmp_path / "in", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 2 and "did not write" in result.stderr
    assert mine.read_bytes() == b"mine"
