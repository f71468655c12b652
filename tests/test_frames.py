"""Files with more than one picture: animations, multi-page TIFFs, HEIF bursts and depth maps,
MPO; and transparency kept through every path."""

from __future__ import annotations

import io
import json

import builders
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from photoguard import Options, clean_file, scan_file
from photoguard.cli import cli
from photoguard.errors import ImageTooLarge, VerificationError
from photoguard.media import copies, frames
from photoguard.parts import detection, scene
from photoguard.parts.detect.base import Face
from photoguard.parts.formats import BY_NAME, Container, Timing, sniff
from photoguard.parts.picture import register_heif

ANIMATIONS = ("gif", "webp", "png")
NO_FACES = Options(faces=False)
#: per channel, composited over black and over white (WebP frames are lossless here)
TOLERANCE = 4


class MarkerDetector:
    """Finds the made-up face of builders.frames / builders.pages: a MARKER square."""

    name = "marker"

    def __init__(self):
        self.calls = 0

    def detect(self, rgb):
        self.calls += 1
        ys, xs = np.nonzero(_marker(rgb))
        if len(xs) < 30:
            return []
        return [Face((int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1), 0.9)]


def _marker(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] > 200)


@pytest.fixture
def marker_detector(monkeypatch) -> MarkerDetector:
    detector = MarkerDetector()
    monkeypatch.setattr(detection, "get_detector", lambda options: detector)
    return detector


def clean(tmp_path, data: bytes, suffix: str, options: Options = NO_FACES, name: str = "in"):
    src = tmp_path / f"{name}{suffix}"
    src.write_bytes(data)
    result = clean_file(src, tmp_path / "out" / f"{name}{'.jpg' if suffix == '.heic' else suffix}", options)
    assert result.status == "cleaned"
    return result, result.output.read_bytes()


def decoded(data: bytes) -> tuple[list[np.ndarray], list[int], object]:
    """Every frame as shown (RGBA), each frame's duration, and the loop count."""
    register_heif()
    with Image.open(io.BytesIO(data)) as image:
        loop = image.info.get("loop")
        shown, durations = [], []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            shown.append(np.asarray(image.convert("RGBA"), dtype=np.float64))
            durations.append(round(image.info.get("duration", 0)))
    return shown, durations, loop


def over(rgba: np.ndarray, background: int) -> np.ndarray:
    alpha = rgba[..., 3:] / 255
    return rgba[..., :3] * alpha + background * (1 - alpha)


def worst(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference per channel, composited over black and over white."""
    return max(np.abs(over(a, bg) - over(b, bg)).max() for bg in (0, 255))


@pytest.mark.parametrize("kind", ANIMATIONS)
def test_animation_keeps_every_frame_its_timing_and_loop(tmp_path, kind):
    source = builders.animation(kind, loop=3)
    result, out = clean(tmp_path, source, f".{kind}")
    before, durations, loop = decoded(source)
    after, copy_durations, copy_loop = decoded(out)
    assert len(after) == len(before) == 8
    assert copy_durations == durations == [40 + 10 * i for i in range(8)]
    assert copy_loop == loop == 3
    assert max(worst(a, b) for a, b in zip(before, after)) <= TOLERANCE
    assert before[0][0, 0, 3] == after[0][0, 0, 3] == 0  # the transparent columns stay transparent
    assert result.dropped == []


@pytest.mark.parametrize("kind", ANIMATIONS)
def test_animation_copy_holds_only_keep_listed_blocks(tmp_path, kind):
    source = builders.animation(kind)
    handler = sniff(source[:32])
    assert {c.kind for c in handler.containers(source)} - {""}, "the sample must carry metadata"
    result, out = clean(tmp_path, source, f".{kind}")
    assert handler.leftovers(out) == []
    assert {c.name for c in handler.containers(out)} <= handler.keep
    assert builders.PLANTED not in out
    assert result.removed


def test_a_gif_that_plays_once_has_no_loop_block(tmp_path):
    _, out = clean(tmp_path, builders.animation("gif", loop=None), ".gif")
    assert "loop" not in {c.name for c in BY_NAME["gif"].containers(out)}
    assert decoded(out)[2] is None


@pytest.mark.parametrize("kind", ANIMATIONS)
def test_face_is_obscured_in_every_frame_it_shows(tmp_path, kind, marker_detector):
    source = builders.animation(kind, count=10, marked=range(2, 8))
    result, out = clean(tmp_path, source, f".{kind}", Options())
    before, after = decoded(source)[0], decoded(out)[0]
    assert len(after) == 10
    for index, (a, b) in enumerate(zip(before, after)):
        shown = _marker(a).sum()
        assert shown == (56 if index in range(2, 8) else 0)
        assert _marker(b).sum() <= 0.05 * shown, f"frame {index}: the face still shows"
        # well away from the face (rows above and below its mask) nothing changes
        far = np.r_[0:16, 38:48]
        assert worst(a[far], b[far]) <= TOLERANCE
    assert len(result.faces) == 1


def test_faces_are_looked_for_on_some_frames_and_where_they_change():
    face, other = Face((10, 10, 20, 20), 0.9), Face((40, 10, 20, 20), 0.9)
    for shown, looked_at in (
        (lambda index: [face], {0, 3, 6, 9}),  # the same face throughout: every third frame
        (lambda index: [face] + ([other] if index >= 5 else []), {0, 3, 4, 5, 6, 9}),  # one comes
        (lambda index: [Face((10 + 5 * index, 10, 20, 20), 0.9)], set(range(10))),  # one moves fast
    ):
        asked = set()
        found = frames.spread(10, (100, 50), lambda index, asked=asked, shown=shown: asked.add(index) or shown(index),
                              every=3)
        assert asked == looked_at
        assert all(found[index] for index in range(10))


def test_a_frame_new_against_both_looked_at_neighbours_is_looked_at():
    """Frames 0, 3 and 6 are looked at and show no face; frame 2 is the same as 3 (a pan),
    frame 4 is a picture of its own, frame 5 the same as 4: only 4 is looked at besides."""
    scenes = [0, 0, 1, 1, 2, 2, 1]
    asked = set()
    frames.spread(7, (100, 50), lambda index: asked.add(index) or [], every=3,
                  differs=lambda a, b: scenes[a] != scenes[b])
    assert asked == {0, 3, 4, 6}


def test_a_picture_moved_a_little_is_the_same_scene_and_another_picture_is_not():
    from conftest import SAMPLES

    astronaut = np.asarray(Image.open(SAMPLES / "astronaut_gps.jpg").convert("RGB"))
    coffee = np.asarray(Image.open(SAMPLES / "coffee_gps.jpg").convert("RGB"))
    first, panned = (scene.thumbnail(astronaut[:400, x : x + 400]) for x in (0, 8))
    assert not scene.changed(first, panned)
    assert scene.changed(first, scene.thumbnail(coffee[:400, :400]))
    lit = astronaut[:400, :400].copy()
    lit[100:300, 100:300] = 255  # a flash, a face come in: a fifth of the picture
    assert scene.changed(first, scene.thumbnail(lit))


@pytest.mark.parametrize("kind", ["gif", "png"])
def test_clean_twice_gives_the_same_animation(tmp_path, kind, marker_detector):
    _, once = clean(tmp_path, builders.animation(kind), f".{kind}", Options(), "a")
    _, twice = clean(tmp_path, once, f".{kind}", Options(), "b")
    first, second = decoded(once), decoded(twice)
    assert first[1:] == second[1:]
    assert all(np.array_equal(a, b) for a, b in zip(first[0], second[0]))


def test_identical_frames_are_merged_with_their_time_added(tmp_path):
    shown = builders.frames(4, marked=())
    shown.insert(2, shown[1].copy())
    data = io.BytesIO()
    shown[0].save(data, "PNG", save_all=True, append_images=shown[1:], duration=[10, 20, 30, 40, 50])
    _, out = clean(tmp_path, data.getvalue(), ".png")
    assert decoded(out)[1] == [10, 50, 40, 50]


def test_animation_as_jpeg_keeps_the_first_frame_and_says_so(tmp_path):
    result, out = clean(tmp_path, builders.animation("gif"), ".gif", Options(faces=False, output_format="jpeg"))
    assert out.startswith(b"\xff\xd8") and result.dropped == ["7 more frames"]


def test_all_frames_count_against_the_pixel_limit(tmp_path):
    src = tmp_path / "in.gif"
    src.write_bytes(builders.animation("gif"))  # 8 frames of 64x48: 24576 pixels
    with pytest.raises(ImageTooLarge, match="8 frames of 64x48"):
        clean_file(src, tmp_path / "out.gif", Options(faces=False, max_pixels=20000))


def test_verification_checks_the_frames_and_their_timing(tmp_path):
    path = tmp_path / "copy.png"
    shown = builders.frames()
    shown[0].save(path, "PNG", save_all=True, append_images=shown[1:], duration=[40 + 10 * i for i in range(8)])
    sequence = frames.decode(Image.open(path), path, 10**9)
    handler = BY_NAME["png"]
    copies.verify_copy(path, handler, (64, 48), sequence, sequence.timing)
    for timing in (Timing(sequence.timing.durations[:-1], 0), Timing((5,) * 8, 0), Timing(sequence.timing.durations, 2)):
        with pytest.raises(VerificationError):
            copies.verify_copy(path, handler, (64, 48), sequence, timing)
    with pytest.raises(VerificationError, match="holds 8 pictures, expected 1"):
        copies.verify_copy(path, handler, (64, 48))


def test_transparent_gif_keeps_its_transparent_background(tmp_path, fake_detector):
    image = builders.frames(1, marked=())[0]
    data = io.BytesIO()
    image.save(data, "GIF")
    source = data.getvalue()
    assert Image.open(io.BytesIO(source)).info.get("transparency") is not None
    _, out = clean(tmp_path, source, ".gif")
    assert worst(decoded(source)[0][0], decoded(out)[0][0]) == 0
    fake_detector([(30, 10, 16, 16)])  # obscuring a face keeps the transparency around it
    _, out = clean(tmp_path, source, ".gif", Options(), "face")
    assert decoded(out)[0][0][:, :8, 3].max() == 0 and worst(decoded(source)[0][0][40:], decoded(out)[0][0][40:]) == 0


@pytest.mark.parametrize("kind", ["png", "webp", "tiff"])
def test_alpha_is_kept_when_a_face_is_obscured(tmp_path, kind, fake_detector):
    fake_detector([(30, 10, 16, 16)])
    image = builders.frames(1, marked=())[0]
    data = io.BytesIO()
    image.save(data, kind.upper(), **({"lossless": True} if kind == "webp" else {}))
    _, out = clean(tmp_path, data.getvalue(), f".{kind}", Options())
    before, after = decoded(data.getvalue())[0][0], decoded(out)[0][0]
    assert after[:, :8, 3].max() == 0 and after[:, 8:, 3].min() == 255
    assert worst(before[40:], after[40:]) <= TOLERANCE


def test_every_page_of_a_tiff_is_cleaned(tmp_path, marker_detector):
    source = builders.pages()
    result, out = clean(tmp_path, source, ".tif", Options())
    assert marker_detector.calls == 3
    before, after = decoded(source)[0], decoded(out)[0]
    assert [page.shape for page in after] == [page.shape for page in before] == [(48, 64, 4), (56, 40, 4), (48, 64, 4)]
    assert _marker(before[1]).sum() == 56 and _marker(after[1]).sum() == 0
    assert worst(before[0], after[0]) == worst(before[2], after[2]) == 0
    assert worst(before[1][40:], after[1][40:]) == 0
    assert len(result.faces) == 1 and result.dropped == []
    assert BY_NAME["tiff"].leftovers(out) == [] and builders.PLANTED not in out
    assert [c.name for c in BY_NAME["tiff"].containers(out)].count("page") == 2


def test_a_tiff_as_png_keeps_the_first_page_and_says_so(tmp_path):
    result, _ = clean(tmp_path, builders.pages(), ".tif", Options(faces=False, output_format="png"))
    assert result.dropped == ["2 more pages"]


def test_heic_burst_copy_holds_the_primary_picture(tmp_path):
    source = builders.heic_burst(3, primary=1)
    result, out = clean(tmp_path, source, ".heic")
    assert result.dropped == ["2 more pictures"]
    shown = decoded(out)[0]
    assert len(shown) == 1
    expected = np.asarray(builders.picture(seed=1).convert("RGBA"), dtype=np.float64)
    assert np.abs(shown[0] - expected).mean() < np.abs(shown[0] - np.asarray(
        builders.picture(seed=0).convert("RGBA"), dtype=np.float64)).mean()


def test_heic_depth_map_is_left_out_and_said(tmp_path):
    source = builders.heic_with_depth_map()
    assert "auxiliary" in {c.kind for c in BY_NAME["heif"].containers(source)}
    result, out = clean(tmp_path, source, ".heic")
    assert "auxiliary" in result.removed and result.dropped == []
    assert len(decoded(out)[0]) == 1


class _Opened:
    """Stands for an opened file of the given format and number of pictures."""

    def __init__(self, format: str, n_frames: int):
        self.format, self.n_frames, self.info = format, n_frames, {}


def test_dropped_pictures_are_named_in_plain_words():
    assert frames.dropped(_Opened("HEIF", 4), [Container("group:brst")]) == ["3 more burst pictures"]
    assert frames.dropped(_Opened("HEIF", 2), [Container("group:ster")]) == ["1 more stereo picture"]
    assert frames.dropped(_Opened("HEIF", 2), []) == ["1 more picture"]
    assert frames.dropped(_Opened("HEIF", 1), [Container("group:brst")]) == []
    mpo = Image.open(io.BytesIO(builders.mpo()))
    assert frames.dropped(mpo, []) == []  # "Undefined": an HDR gain map, say; "removed" counts it
    mpo.mpinfo[0xB002][1]["Attribute"]["MPType"] = "Multi-Frame Image: (Disparity)"
    assert frames.dropped(mpo, []) == ["1 more stereo picture"]
    mpo.mpinfo[0xB002][1]["Attribute"]["MPType"] = "Baseline MP Primary Image"
    assert frames.dropped(mpo, []) == ["1 more picture"]
    mpo.mpinfo[0xB002][1]["Attribute"]["MPType"] = "Large Thumbnail (VGA Equivalent)"
    assert frames.dropped(mpo, []) == []  # a preview of the same picture: metadata, in "removed"


def test_tiff_walker_tells_pages_from_thumbnails():
    import struct

    def ifd(subfile_type: int, next_ifd: int) -> bytes:
        return struct.pack("<HHHI4sI", 1, 254, 4, 1, struct.pack("<I", subfile_type), next_ifd)

    data = b"II*\0" + struct.pack("<I", 8) + ifd(0, 26) + ifd(2, 44) + ifd(1, 0)
    names = [(c.name, c.kind) for c in BY_NAME["tiff"].containers(data) if c.name != "NewSubfileType"]
    assert names == [("header", ""), ("page", ""), ("reduced-image", "thumbnail")]


def test_json_summary_and_scan_say_what_is_dropped(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "burst.heic").write_bytes(builders.heic_burst(4))
    runner = CliRunner()
    cleaned = runner.invoke(cli, ["clean", str(folder), "--no-faces", "--json", "-o", str(tmp_path / "out")])
    assert cleaned.exit_code == 0, cleaned.output
    assert json.loads(cleaned.stdout)["dropped"] == ["3 more pictures"]
    assert "pictures left out of 1 copy" in cleaned.stderr
    scanned = runner.invoke(cli, ["scan", str(folder), "--no-faces", "--json"])
    assert json.loads(scanned.stdout)["dropped"] == ["3 more pictures"]
    assert "3 more pictures" in runner.invoke(cli, ["scan", str(folder), "--no-faces"]).stdout


def test_scan_looks_for_faces_in_every_frame(tmp_path, marker_detector):
    path = tmp_path / "in.webp"
    path.write_bytes(builders.animation("webp", marked=range(5, 8)))
    report = scan_file(path, Options())
    assert len(report.faces) == 1 and report.dropped == []


def test_real_face_is_obscured_in_an_animation(tmp_path):
    from conftest import SAMPLES

    astronaut = Image.open(SAMPLES / "astronaut_gps.jpg").convert("RGB")
    shown = [astronaut.crop((8 * i, 0, 8 * i + 400, 400)) for i in range(5)]
    data = io.BytesIO()
    shown[0].save(data, "WEBP", save_all=True, append_images=shown[1:], duration=100, lossless=True)
    result, out = clean(tmp_path, data.getvalue(), ".webp", Options())
    before, after = decoded(data.getvalue())[0], decoded(out)[0]
    assert len(after) == 5 and len(result.faces) == 1
    for index, (a, b) in enumerate(zip(before, after)):
        # test_pipeline's ASTRONAUT_FACE, panned
        assert_obscured(a, b, (176 - 8 * index, 54, 100, 124), f"frame {index}")
        assert worst(a[300:], b[300:]) <= TOLERANCE


def assert_obscured(a: np.ndarray, b: np.ndarray, box, where: str) -> None:
    """The face in ``box`` of ``a`` is obscured in ``b``, judged the way test_pipeline judges it."""
    x, y, w, h = box
    inner = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    assert np.abs(b[inner][..., :3] - a[inner][..., :3]).mean() > 12, where
    edges = [np.diff(p[inner][..., :3].mean(axis=2), axis=1).ravel() for p in (a, b)]
    assert abs(np.corrcoef(*edges)[0, 1]) < 0.2, f"{where}: the face's edges are in the copy"


@pytest.mark.parametrize("kind", ANIMATIONS)
def test_a_face_only_in_the_middle_picture_of_a_slideshow_is_obscured(tmp_path, kind):
    """Three slides, the real face only on the second: the frames sampled (the first and the
    last) show the same (no) faces, but the middle picture is new, so it is looked at too."""
    from conftest import SAMPLES

    coffee = Image.open(SAMPLES / "coffee_gps.jpg").convert("RGB")
    astronaut = Image.open(SAMPLES / "astronaut_gps.jpg").convert("RGB").crop((0, 0, 400, 400))
    shown = [coffee.crop((0, 0, 400, 400)), astronaut, coffee.crop((200, 0, 600, 400))]
    data = io.BytesIO()
    shown[0].save(data, {"gif": "GIF", "webp": "WEBP", "png": "PNG"}[kind], save_all=True,
                  append_images=shown[1:], duration=1000, **({"lossless": True} if kind == "webp" else {}))
    result, out = clean(tmp_path, data.getvalue(), f".{kind}", Options())
    before, after = decoded(data.getvalue())[0], decoded(out)[0]
    assert len(after) == 3 and len(result.faces) == 1
    assert_obscured(before[1], after[1], (176, 54, 100, 124), "the middle slide")


def test_gif_frames_with_palettes_of_their_own_are_kept_exactly(tmp_path):
    source = builders.gif_with_local_palettes()
    before = decoded(source)[0]
    assert len(np.unique(before[1].reshape(-1, 4), axis=0)) > 256
    _, out = clean(tmp_path, source, ".gif")
    assert max(worst(a, b) for a, b in zip(before, decoded(out)[0])) == 0


def test_apng_still_for_old_viewers_is_left_out_and_said(tmp_path):
    still = builders.picture(seed=9).convert("RGBA")
    data = io.BytesIO()
    still.save(data, "PNG", save_all=True, append_images=builders.frames(4, marked=()), default_image=True,
               duration=[10, 20, 30, 40])
    result, out = clean(tmp_path, data.getvalue(), ".png")
    assert result.dropped == ["1 still picture shown only where the animation does not play"]
    assert decoded(out)[1] == [10, 20, 30, 40]


def test_a_tiffs_second_page_is_not_taken_for_a_thumbnail(tmp_path):
    path = tmp_path / "pages.tif"
    path.write_bytes(builders.pages())
    assert "thumbnail" not in scan_file(path, NO_FACES).metadata.kinds


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_animation_stays_lossless_or_lossy(tmp_path, lossless):
    shown = builders.frames(4, marked=())
    data = io.BytesIO()
    shown[0].save(data, "WEBP", save_all=True, append_images=shown[1:], lossless=lossless, quality=80)
    _, out = clean(tmp_path, data.getvalue(), ".webp")
    names = {c.name for c in BY_NAME["webp"].containers(out)}
    assert ("VP8L" in names, "VP8 " in names) == (lossless, not lossless)
