"""Every format: a clean copy holds only allowed containers, nothing planted, and cleaning it
again changes nothing of substance. Plus the lossless JPEG path and the structure walkers."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import builders
import numpy as np
import pytest
from conftest import psnr
from PIL import Image

from photoguard.errors import VerificationError
from photoguard.media.copies import verify_copy
from photoguard.options import Options
from photoguard.parts.formats import BY_NAME, sniff
from photoguard.parts.formats.jpeg import JpegHandler, walk
from photoguard.parts.picture import register_heif
from photoguard.pipeline import clean_file

NO_FACES = Options(faces=False)
SAMPLES = {
    "jpeg": lambda: builders.jpeg(trailer=builders.MP4),
    "jpeg-progressive": lambda: builders.jpeg(progressive=True, trailer=b"SEFH" + builders.PLANTED),
    "mpo": builders.mpo,
    "png": builders.png,
    "webp": builders.webp,
    "webp-lossless": lambda: builders.webp(lossless=True),
    "tiff": builders.tiff,
    "gif": builders.gif,
    "heic": builders.heic,
}
SUFFIX = {"jpeg": ".jpg", "jpeg-progressive": ".jpg", "mpo": ".jpg", "png": ".png", "webp": ".webp",
          "webp-lossless": ".webp", "tiff": ".tif", "gif": ".gif", "heic": ".heic"}


def clean(tmp_path, data: bytes, suffix: str, name: str = "in", options: Options = NO_FACES):
    src = tmp_path / f"{name}{suffix}"
    src.write_bytes(data)
    dst = tmp_path / "out" / f"{name}{'.jpg' if suffix == '.heic' else suffix}"
    result = clean_file(src, dst, options)
    assert result.status == "cleaned"
    return dst.read_bytes()


def exiftool(data: bytes, tmp_path) -> dict:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    path = tmp_path / "probe.bin"
    path.write_bytes(data)
    run = subprocess.run(["exiftool", "-j", "-a", "-G1", "-ee3", str(path)], capture_output=True, check=True)
    return json.loads(run.stdout)[0]


@pytest.mark.parametrize("kind", SAMPLES)
def test_clean_copy_holds_only_allowed_containers(tmp_path, kind):
    source = SAMPLES[kind]()
    handler = sniff(source[:32])
    assert any(c.kind for c in handler.containers(source)), "the sample must carry metadata"
    out = clean(tmp_path, source, SUFFIX[kind])
    out_handler = sniff(out[:32])
    containers = out_handler.containers(out)
    assert not [c for c in containers if c.kind], containers
    assert out_handler.leftovers(out) == []
    assert builders.PLANTED not in out
    register_heif()
    with Image.open(io.BytesIO(out)) as image:
        image.load()
        assert image.size == (64, 48)
        assert not image.info.get("xmp") and not image.info.get("comment")


@pytest.mark.parametrize("kind", SAMPLES)
def test_clean_twice_changes_nothing_of_substance(tmp_path, kind):
    once = clean(tmp_path, SAMPLES[kind](), SUFFIX[kind], "a")
    twice = clean(tmp_path, once, SUFFIX[kind] if kind != "heic" else ".jpg", "b")
    handler = sniff(once[:32])
    assert [c.name for c in handler.containers(once)] == [c.name for c in handler.containers(twice)]
    if handler.name in ("png", "tiff", "gif"):  # lossless or deterministic encoders
        assert once == twice


@pytest.mark.parametrize("kind", SAMPLES)
def test_exiftool_finds_nothing_identifying(tmp_path, kind):
    out = clean(tmp_path, SAMPLES[kind](), SUFFIX[kind])
    tags = exiftool(out, tmp_path)
    dump = json.dumps(tags)
    assert "PLANTED" not in dump
    groups = {key.split(":")[0] for key in tags if ":" in key}
    assert not groups & {"GPS", "XMP-x", "XMP-dc", "IPTC", "Photoshop", "MakerNotes", "IFD1", "ExifIFD", "MPF0"}
    if kind != "tiff":  # a TIFF's IFD0 is its structure, judged by TiffHandler.leftovers above
        exif_tags = {key.split(":")[1] for key in tags if key.startswith("IFD0:")}
        assert exif_tags <= {"Orientation"}
    assert not [key for key in tags if "Comment" in key or "Trailer" in key or "Thumbnail" in key]


def test_mpo_keeps_only_the_primary_image(tmp_path):
    out = clean(tmp_path, builders.mpo(), ".jpg")
    assert out.count(b"\xff\xd8") == 1 and out.endswith(b"\xff\xd9")
    assert Image.open(io.BytesIO(out)).format == "JPEG"


def test_verify_refuses_exif_with_more_than_orientation(tmp_path):
    out = clean(tmp_path, builders.jpeg(orientation=3), ".jpg")
    tampered = out[:2] + b"\xff\xe1" + (len(builders.exif_bytes()) + 2).to_bytes(2, "big") + builders.exif_bytes() + out[2:]
    path = tmp_path / "x.jpg"
    path.write_bytes(tampered)
    with pytest.raises(VerificationError):
        verify_copy(path, BY_NAME["jpeg"], (64, 48))
    path.write_bytes(out)
    verify_copy(path, BY_NAME["jpeg"], (64, 48))


def test_jpeg_walk_tolerates_stray_bytes_and_corrupt_scan_bytes():
    source = builders.jpeg(orientation=1)
    at = next(s for marker, s, _, _ in walk(source) if marker == 0xDB)
    with_junk = source[:at] + b"\0\0" + source[at:]
    names = [c.name for c in JpegHandler().containers(with_junk)]
    assert "stray-bytes" in names
    scan = next(s for marker, s, _, _ in walk(source) if marker == 0xDA) + 20
    corrupt = source[:scan] + b"\xff\x9f" + source[scan + 2 :]
    assert JpegHandler().containers(corrupt)[-1].name == "EOI"


@pytest.mark.parametrize("turn", [1, 6])
def test_faces_force_a_reencode_with_the_source_tables(tmp_path, monkeypatch, turn):
    from photoguard.media import still
    from photoguard.parts.detect.base import Face

    monkeypatch.setattr(still, "find_faces", lambda *args: [Face((2, 2, 10, 10), 0.9)])
    from PIL import ImageFilter, ImageOps

    photo_like = builders.picture((256, 192)).filter(ImageFilter.GaussianBlur(1))  # noise is not photo-like
    source = builders.jpeg(orientation=turn, image=photo_like, quality=90, profile=b"")
    out = clean(tmp_path, source, ".jpg", options=Options(faces=True))
    original, copy = Image.open(io.BytesIO(source)), Image.open(io.BytesIO(out))
    if turn == 1:
        assert copy.quantization == original.quantization
    else:  # turned: the blocks no longer line up, so the tables are finer
        assert all(c <= o for k in original.quantization
                   for c, o in zip(copy.quantization[k], original.quantization[k]))
        assert copy.quantization != original.quantization
    assert not copy.getexif()  # the orientation is baked into the pixels
    assert b"ICC_PROFILE" not in out and builders.PLANTED not in out
    upright = ImageOps.exif_transpose(original).convert("RGB")
    assert copy.size == upright.size
    a = np.asarray(upright, float)[64:, 64:]  # away from the face
    b = np.asarray(copy, float)[64:, 64:]
    assert psnr(a, b) >= 40


def test_outputs_do_not_copy_timestamps(tmp_path):
    import os

    src = tmp_path / "old.jpg"
    src.write_bytes(builders.jpeg())
    os.utime(src, (946684800, 946684800))  # 2000-01-01
    dst = tmp_path / "new.jpg"
    clean_file(src, dst, NO_FACES)
    assert dst.stat().st_mtime > 946684800 + 86400


def test_walkers_refuse_truncated_files():
    with pytest.raises(ValueError):
        JpegHandler().containers(builders.jpeg()[:-200])
    with pytest.raises(ValueError):
        BY_NAME["png"].containers(builders.png()[:-20])


def test_jpeg_image_data_ends_at_the_first_real_marker():
    """Stuffed FF 00, restarts FF D0-D7, fill bytes FF FF and damaged pairs (FF 9F) are image
    data; FF followed by any other byte from C0 to FE ends it."""
    import random

    from photoguard.parts.formats.jpeg import _entropy_end

    def spelt_out(data, pos):
        for i in range(pos, len(data) - 1):
            if data[i] == 0xFF and 0xC0 <= data[i + 1] <= 0xFE and not 0xD0 <= data[i + 1] <= 0xD7:
                return i
        raise ValueError("cut short")

    rng = random.Random(7)
    for _ in range(3000):
        data = bytes(rng.choice([0xFF, 0x00, 0xD0, 0xD7, 0xD9, 0xC4, 0x9F, 0xFE, 0x12]) for _ in range(rng.randint(0, 24)))
        pos = rng.randint(0, len(data))
        try:
            expected = spelt_out(data, pos)
        except ValueError:
            with pytest.raises(ValueError):
                _entropy_end(data, pos)
        else:
            assert _entropy_end(data, pos) == expected, (data, pos)
