"""Colours survive: Display P3 / Adobe RGB photos look the same through their profiles, and
a kept profile names no device."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess

import builders
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFilter

from photoguard import pipeline
from photoguard.media import still
from photoguard.options import Options
from photoguard.parts import icc
from photoguard.parts.detect.base import Face

SRGB = ImageCms.createProfile("sRGB")
PROFILES = {"display-p3": icc.DISPLAY_P3, "adobe-rgb": icc.ADOBE_RGB}


def rendered(data: bytes) -> np.ndarray:
    """The picture in sRGB, through its embedded profile when it has one."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        profile = image.info.get("icc_profile")
    if profile:
        rgb = ImageCms.profileToProfile(rgb, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB)
    return np.asarray(rgb, float)


def photo() -> Image.Image:
    return builders.picture((128, 96)).filter(ImageFilter.GaussianBlur(1.5))


def clean(tmp_path, data: bytes, name: str, options: Options) -> bytes:
    src = tmp_path / name
    src.write_bytes(data)
    dst = tmp_path / "out" / name
    pipeline.clean_file(src, dst, options)
    return dst.read_bytes()


def test_sanitised_profile_keeps_the_transform_and_names_nobody():
    original = builders.device_profile()
    clean = icc.sanitise(original)
    assert builders.PLANTED not in clean and b"PLNT" not in clean
    assert clean[48:56] == bytes(8) and clean[80:100] == bytes(20) and clean[24:36] == bytes(12)
    (count,) = struct.unpack(">I", clean[128:132])
    tags = {clean[132 + 12 * i : 136 + 12 * i] for i in range(count)}
    assert tags <= icc.COLOUR_TAGS | {b"desc", b"cprt"}
    assert icc.is_clean(clean) and not icc.is_clean(original)
    assert icc.sanitise(clean) == clean
    before = ImageCms.ImageCmsProfile(io.BytesIO(original))
    after = ImageCms.ImageCmsProfile(io.BytesIO(clean))
    assert ImageCms.getProfileDescription(after).strip() == "Display P3"  # a standard name is kept
    sample = photo()
    assert np.array_equal(np.asarray(ImageCms.profileToProfile(sample, before, SRGB)),
                          np.asarray(ImageCms.profileToProfile(sample, after, SRGB)))


def test_unknown_profile_names_are_replaced():
    named = icc.matrix_profile(icc.DISPLAY_P3, name="Calibrated by PLANTED for Jane's screen")
    clean = icc.sanitise(named)
    assert builders.PLANTED not in clean
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(clean))).strip() == icc.NEUTRAL_NAME


def test_broken_profiles_are_refused():
    with pytest.raises(ValueError):
        icc.sanitise(b"\0" * 200)
    assert not icc.is_clean(b"garbage")


@pytest.mark.parametrize("space", PROFILES)
def test_a_jpeg_with_no_face_is_converted_to_srgb_with_the_same_colours(tmp_path, space):
    source = builders.jpeg(image=photo(), profile=builders.device_profile(PROFILES[space]), quality=95)
    copy = clean(tmp_path, source, "p.jpg", Options(faces=False))
    assert not Image.open(io.BytesIO(copy)).info.get("icc_profile")
    assert np.abs(rendered(source) - rendered(copy)).mean(axis=(0, 1)).max() < 1.5


@pytest.mark.parametrize("space", PROFILES)
@pytest.mark.parametrize("suffix", [".png", ".webp", ".jpg"])
def test_reencoded_copies_are_converted_to_srgb(tmp_path, monkeypatch, space, suffix):
    monkeypatch.setattr(still, "find_faces", lambda *args: [Face((0, 0, 2, 2), 0.9)])
    profile = builders.device_profile(PROFILES[space])
    out = io.BytesIO()
    photo().save(out, {".png": "PNG", ".webp": "WEBP", ".jpg": "JPEG"}[suffix], icc_profile=profile,
                 **({"lossless": True} if suffix == ".webp" else {"quality": 95} if suffix == ".jpg" else {}))
    copy = clean(tmp_path, out.getvalue(), "p" + suffix, Options(faces=True))
    assert not Image.open(io.BytesIO(copy)).info.get("icc_profile")
    delta = np.abs(rendered(out.getvalue()) - rendered(copy))[8:, 8:].mean(axis=(0, 1))  # away from the face
    assert delta.max() < 1.0, delta


def test_exiftool_sees_no_device_in_a_kept_profile(tmp_path):
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    copy = clean(tmp_path, builders.jpeg(), "p.jpg", Options(faces=False))
    (tmp_path / "probe.jpg").write_bytes(copy)
    run = subprocess.run(["exiftool", "-j", "-a", "-G1", "-ICC_Profile:all", str(tmp_path / "probe.jpg")],
                         capture_output=True, check=True)
    tags = json.loads(run.stdout)[0]
    assert tags.get("ICC-header:DeviceManufacturer", "") in ("", 0, "0")
    assert tags.get("ICC-header:ProfileCreator", "") in ("", 0, "0")
    assert "PLANTED" not in json.dumps(tags) and "PLNT" not in json.dumps(tags)
