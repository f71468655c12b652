"""The library API: clean_file / scan_file, verification, atomic writes, failing closed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLES, exiftool_tags, photo_pixels, psnr, sha256, write_leaky_jpeg
from PIL import Image, ImageOps

from photoguard import Options, clean_file, scan_file
from photoguard.batch import clean_job
from photoguard.batch.plan import Job
from photoguard.errors import DecodeError, OutputExists, UnsupportedFormat, VerificationError
from photoguard.parts.formats import BY_NAME

# exiftool groups that describe only the file and its pixels
STRUCTURAL_GROUPS = {"ExifTool", "System", "File", "JFIF", "Composite"}
ASTRONAUT_FACE = (176, 54, 100, 124)  # x, y, w, h of Eileen Collins' face in the 512 px sample


def test_clean_copy_holds_no_metadata_by_our_reader(tmp_path, fake_detector):
    fake_detector([(100, 60, 60, 70)])  # a face forces the re-encoding path
    src = write_leaky_jpeg(tmp_path / "a.jpg")
    result = clean_file(src, tmp_path / "out.jpg")
    assert result.status == "cleaned"
    assert {"gps", "exif", "thumbnail", "xmp", "comment"} <= set(result.removed)
    data = (tmp_path / "out.jpg").read_bytes()
    assert BY_NAME["jpeg"].leftovers(data) == []
    assert not data.rstrip(b"\0").endswith(b"VIDEO")
    report = scan_file(tmp_path / "out.jpg", Options(faces=False))
    assert report.metadata.kinds == []


def test_clean_copy_holds_no_metadata_by_exiftool(tmp_path, fake_detector):
    fake_detector([(100, 60, 60, 70)])
    clean_file(write_leaky_jpeg(tmp_path / "a.jpg"), tmp_path / "out.jpg")
    tags = exiftool_tags(tmp_path / "out.jpg")
    leaked = {key for key in tags if key.split(":")[0] not in STRUCTURAL_GROUPS and key != "SourceFile"}
    assert leaked == set()
    assert "ExifTool:Warning" not in tags  # e.g. "trailer after end of image"


def test_orientation_is_baked_into_the_pixels(tmp_path, fake_detector):
    fake_detector([(10, 10, 30, 30)])
    pixels = photo_pixels(320, 240)
    src = write_leaky_jpeg(tmp_path / "six.jpg", pixels, orientation=6)
    clean_file(src, tmp_path / "out.jpg", Options(mode="fill"))
    expected = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
    out = Image.open(tmp_path / "out.jpg")
    assert out.size == expected.size == (240, 320)
    assert not out.getexif()  # baked into the pixels: no Orientation tag left to honour
    mask = np.ones((320, 240), bool)
    mask[:60, :60] = False  # the filled face
    assert psnr(np.asarray(out)[mask], np.asarray(expected)[mask]) > 35


@pytest.mark.parametrize("detector", ["centerface", "haar"])
def test_astronaut_face_is_hidden_and_the_rest_kept(tmp_path, detector):
    src = SAMPLES / "astronaut_gps.jpg"
    result = clean_file(src, tmp_path / "out.jpg", Options(detector=detector))
    assert any(_overlap(face.box, ASTRONAUT_FACE) > 0.5 for face in result.faces)
    before = np.asarray(Image.open(src).convert("RGB")).astype(float)
    after = np.asarray(Image.open(tmp_path / "out.jpg")).astype(float)
    x, y, w, h = ASTRONAUT_FACE
    inner = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    # the face's detail is gone: the mean change is large and its edges are not in the copy
    assert np.abs(after[inner] - before[inner]).mean() > 12
    edges_before, edges_after = (np.diff(a[inner].mean(axis=2), axis=1).ravel() for a in (before, after))
    assert abs(np.corrcoef(edges_before, edges_after)[0, 1]) < 0.2
    away = np.ones(before.shape[:2], bool)
    for face in result.faces:  # every mask, including a detector's false positives
        fx, fy, fw, fh = face.box
        away[max(0, fy - fh // 2):fy + 3 * fh // 2, max(0, fx - fw // 2):fx + 3 * fw // 2] = False
    assert away.mean() > 0.5
    assert psnr(after[away], before[away]) > 38


def _overlap(a, b) -> float:
    """Intersection over the smaller box."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    return ix * iy / min(aw * ah, bw * bh)


def test_library_raises_typed_errors(tmp_path, fake_detector):
    fake_detector()
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(UnsupportedFormat):
        clean_file(tmp_path / "text.jpg", tmp_path / "o.jpg")
    good = write_leaky_jpeg(tmp_path / "good.jpg")
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:2000])
    with pytest.raises(DecodeError):
        clean_file(tmp_path / "cut.jpg", tmp_path / "o.jpg")
    (tmp_path / "o.jpg").write_bytes(b"x")
    with pytest.raises(OutputExists):
        clean_file(good, tmp_path / "o.jpg")
    assert (tmp_path / "o.jpg").read_bytes() == b"x"


def test_write_failing_half_way_leaves_nothing(tmp_path, fake_detector, monkeypatch):
    fake_detector([(10, 10, 40, 40)])
    handler = BY_NAME["jpeg"]

    def broken_encode(image, out, hints):
        out.write(b"\xff\xd8\xff\xe0 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(handler, "encode", broken_encode)
    src = write_leaky_jpeg(tmp_path / "a.jpg")
    out = tmp_path / "out"
    result = clean_job(Job(src, src.parent, "jpeg", dst=out / "a.jpg"), Options())
    assert result.status == "failed" and "No space left" in result.error
    assert list(out.iterdir()) == []


def test_copy_failing_verification_is_removed(tmp_path, fake_detector, monkeypatch):
    fake_detector([(10, 10, 40, 40)])
    handler = BY_NAME["jpeg"]
    original_encode = handler.encode

    def leaky_encode(image, out, hints):
        original_encode(image, out, hints)
        out.write(b"trailing secret")

    monkeypatch.setattr(handler, "encode", leaky_encode)
    src = write_leaky_jpeg(tmp_path / "a.jpg")
    with pytest.raises(VerificationError, match="trailer"):
        clean_file(src, tmp_path / "out" / "a.jpg")
    assert list((tmp_path / "out").iterdir()) == []


def test_detector_failure_fails_closed(tmp_path, fake_detector):
    fake_detector(error=RuntimeError("network exploded"))
    src = write_leaky_jpeg(tmp_path / "a.jpg")
    before = sha256(src)
    result = clean_job(Job(src, tmp_path, "jpeg", dst=tmp_path / "out" / "a.jpg"), Options())
    assert result.status == "failed" and "network exploded" in result.error
    assert not (tmp_path / "out" / "a.jpg").exists()
    assert sha256(src) == before


def test_no_faces_option_skips_detection(tmp_path, fake_detector):
    fake_detector(error=AssertionError("the detector must not run"))
    result = clean_file(write_leaky_jpeg(tmp_path / "a.jpg"), tmp_path / "o.jpg", Options(faces=False))
    assert result.status == "cleaned" and result.faces == []


def test_copy_cut_short_fails_verification(tmp_path, fake_detector, monkeypatch):
    fake_detector([(10, 10, 40, 40)])
    handler = BY_NAME["jpeg"]
    original_encode = handler.encode

    def truncating_encode(image, out, hints):
        import io

        full = io.BytesIO()
        original_encode(image, full, hints)
        out.write(full.getvalue()[: len(full.getvalue()) // 2])

    monkeypatch.setattr(handler, "encode", truncating_encode)
    with pytest.raises(VerificationError):
        clean_file(write_leaky_jpeg(tmp_path / "a.jpg"), tmp_path / "out" / "a.jpg")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_tiny_jpeg_is_cleaned(tmp_path):
    """Found on a real camera file: verification decoded small copies at a scale of zero."""
    from PIL import Image

    Image.new("RGB", (5, 3), (200, 0, 0)).save(tmp_path / "tiny.jpg")
    assert clean_file(tmp_path / "tiny.jpg", tmp_path / "out.jpg", Options(faces=False)).status == "cleaned"
