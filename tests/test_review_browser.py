"""The review page in a real browser (Debian's Chromium, driven headless by Playwright).

One page load: the page made by ``clean --review`` for the sample images is checked, a missed
face is drawn with the mouse, a hidden face is clicked to keep it, the corrections are saved
through the page's own download, and ``clean --regions`` with that file is checked pixel by pixel.
A screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO
from PIL import Image, ImageOps

from photoguard.cli import cli

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
#: the machine has no network: without these Chromium tries to reach out
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE_NAME = "<img src=x onerror=window.pwned=1>.jpg"


def chromium_page(tmp_path: Path):
    """(playwright, context) with a fresh profile, or skip with the reason."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                   "(pip install playwright; the browser is Debian's chromium, never 'playwright install')")
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    playwright = sync_api.sync_playwright().start()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        accept_downloads=True, viewport={"width": 1400, "height": 1000})
    return playwright, context


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def displayed(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB")).astype(np.int16)


def test_review_page_draw_keep_save_and_clean_with_the_corrections(samples, tmp_path):
    shutil.copy(samples / "coffee_gps.jpg", samples / HOSTILE_NAME)
    out = tmp_path / "out"
    result = run("clean", samples, "-o", out, "--review", "-j", "1")
    assert result.exit_code == 0, result.output
    page_path = out / "photoguard-review.html"
    assert f"review page: {page_path}" in result.stderr
    images = sorted(p.name for p in out.iterdir() if p.is_file() and p.suffix == ".jpg")
    assert len(images) == 7

    playwright, context = chromium_page(tmp_path)
    try:
        page = context.new_page()
        requests, errors, dialogs = [], [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(page_path.as_uri())
        page.wait_for_selector("html[data-ready=true]")
        data = json.loads(page.locator("#data").text_content())

        # every photo shown, with one outline per hidden face, and its cleaned copy loaded
        cards = page.locator("article.photo")
        assert cards.count() == len(images) == len(data["photos"])
        assert sorted(cards.evaluate_all("cards => cards.map(c => c.querySelector('h2').textContent)")) == images
        for index, photo in enumerate(data["photos"]):
            card = cards.nth(index)
            card.scroll_into_view_if_needed()
            assert card.locator("ellipse.region.face").count() == len(photo["faces"])
            card.locator(".stage img").evaluate("img => img.decode()")
            assert card.locator(".stage img").evaluate("img => img.naturalWidth") > 0
        assert sum(len(p["faces"]) for p in data["photos"]) >= 4
        # flagged photos first: the coffee cups have no face
        assert data["photos"][0]["warnings"] and data["photos"][-1]["warnings"] == []
        assert not page.evaluate("window.pwned"), "a file name was run as markup"
        assert dialogs == [] and errors == []

        # draw a rectangle over the coffee cup, as if it were a missed face
        coffee = page.locator("article.photo[data-name='coffee_gps.jpg']")
        coffee.scroll_into_view_if_needed()
        box = coffee.locator(".stage svg").bounding_box()
        start = (box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
        end = (box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(*end, steps=8)
        page.mouse.up()
        assert coffee.locator("rect.region.added").count() == 1

        # click the astronaut's hidden face to keep it visible
        astronaut = page.locator("article.photo[data-name='astronaut_gps.jpg']")
        astronaut.scroll_into_view_if_needed()
        astronaut.locator("ellipse.region.face").first.click()
        assert astronaut.locator("rect.region.kept").count() == 1
        assert astronaut.locator("ellipse.region.face").count() == 0

        page.evaluate("window.scrollTo(0, 0)")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

        with page.expect_download() as download_info:
            page.click("#save")
        download = download_info.value
        assert download.suggested_filename == "photoguard-regions.json"
        saved = tmp_path / "photoguard-regions.json"
        download.save_as(str(saved))
        assert "photoguard clean" in page.locator("#status").text_content()
        outside = [url for url in requests if not url.startswith(("file:", "data:", "blob:"))]
        assert outside == [], "the page must not reach the network"
    finally:
        context.close()
        playwright.stop()

    corrections = json.loads(saved.read_text())
    by_name = {entry["name"]: entry for entry in corrections["photos"].values()}
    (added,) = by_name["coffee_gps.jpg"]["add"]
    x, y, w, h = added
    assert abs(x - 150) <= 6 and abs(y - 100) <= 6 and abs(w - 210) <= 8 and abs(h - 180) <= 8  # 600x400 photo
    (kept,) = by_name["astronaut_gps.jpg"]["keep"]

    # apply the corrections, from a renamed copy of the originals: matched by content
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    shutil.copy(samples / "coffee_gps.jpg", renamed / "cups.jpg")
    shutil.copy(samples / "astronaut_gps.jpg", renamed / "portrait.jpg")
    fixed = tmp_path / "fixed"
    result = run("clean", renamed, "-o", fixed, "--regions", saved, "-j", "1", "--json")
    assert result.exit_code == 0, result.output

    original, cleaned = displayed(samples / "coffee_gps.jpg"), displayed(fixed / "cups.jpg")
    inside = np.abs(original[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4]
                    - cleaned[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4])
    assert inside.mean() > 10, "the drawn region is not obscured"
    assert np.abs(original[:, :100] - cleaned[:, :100]).mean() < 3, "outside the region the photo changed"

    kx, ky, kw, kh = kept
    original, cleaned = displayed(samples / "astronaut_gps.jpg"), displayed(fixed / "portrait.jpg")
    face = (slice(ky, ky + kh), slice(kx, kx + kw))
    # a copy with no face is re-encoded, not copied bit for bit: a blur changes far more
    assert np.abs(original[face] - cleaned[face]).mean() < 2, "the kept face was obscured"
