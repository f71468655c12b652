"""Every EXIF orientation 1-8, in every format, displays as the original did."""

from __future__ import annotations

import io

import builders
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from photoguard import pipeline
from photoguard.media import still
from photoguard.options import Options
from photoguard.parts.detect.base import Face
from photoguard.parts.picture import register_heif

ORIENTATIONS = range(1, 9)
BUILD = {"jpeg": builders.jpeg, "webp": builders.webp, "tiff": builders.tiff, "heic": builders.heic}
SUFFIX = {"jpeg": ".jpg", "webp": ".webp", "tiff": ".tif", "heic": ".heic"}


def displayed(data: bytes) -> np.ndarray:
    """What a viewer shows: pillow-heif applies HEIF irot/imir itself and resets the EXIF
    orientation to 1, so exif_transpose never turns a HEIF twice."""
    register_heif()
    with Image.open(io.BytesIO(data)) as image:
        shown = ImageOps.exif_transpose(image).convert("RGB")
        profile = image.info.get("icc_profile")
    if profile:  # shown through its colour profile, as a colour-managed viewer does
        shown = ImageCms.profileToProfile(shown, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                          ImageCms.createProfile("sRGB"))
    return np.asarray(shown, float)


def clean(tmp_path, data: bytes, suffix: str, options: Options) -> bytes:
    src = tmp_path / f"in{suffix}"
    src.write_bytes(data)
    dst = tmp_path / ("out.jpg" if suffix == ".heic" else f"out{suffix}")
    pipeline.clean_file(src, dst, options)
    return dst.read_bytes()


def assert_same_picture(original: bytes, copy: bytes, tolerance: float = 4.0) -> None:
    a, b = displayed(original), displayed(copy)
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < tolerance
    # the red corner is where the original shows it (a wrong turn moves it)
    corner = lambda x: x[: x.shape[0] // 5, : x.shape[1] // 5].mean(axis=(0, 1))  # noqa: E731
    assert np.abs(corner(a) - corner(b)).max() < 12


@pytest.mark.parametrize("kind", BUILD)
@pytest.mark.parametrize("turn", ORIENTATIONS)
def test_orientation_without_faces(tmp_path, kind, turn):
    source = BUILD[kind](orientation=turn)
    copy = clean(tmp_path, source, SUFFIX[kind], Options(faces=False))
    assert_same_picture(source, copy)


@pytest.mark.parametrize("turn", ORIENTATIONS)
def test_orientation_when_a_jpeg_is_reencoded(tmp_path, monkeypatch, turn):
    monkeypatch.setattr(still, "find_faces", lambda *args: [Face((0, 40, 4, 4), 0.9)])
    source = builders.jpeg(orientation=turn)
    copy = clean(tmp_path, source, ".jpg", Options(faces=True))
    assert_same_picture(source, copy, tolerance=6.0)


@pytest.mark.parametrize("turn", ORIENTATIONS)
def test_orientation_when_converted_to_png(tmp_path, turn):
    source = builders.jpeg(orientation=turn)
    src = tmp_path / "in.jpg"
    src.write_bytes(source)
    pipeline.clean_file(src, tmp_path / "out.png", Options(faces=False, output_format="png"))
    copy = (tmp_path / "out.png").read_bytes()
    assert_same_picture(source, copy)
    assert Image.open(io.BytesIO(copy)).getexif().get(0x0112, 1) == 1  # baked into the pixels
