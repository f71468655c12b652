"""Shared test helpers: images built in code, hashing, and a fake detector."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image

from photoguard.batch import executors
from photoguard.batch.executors import InProcess
from photoguard.parts import detection
from photoguard.parts.detect.base import Face

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_images"


def photo_pixels(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like RGB picture (gradients plus mild texture) that JPEG handles well."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 128 + 100 * np.sin(xs / 37 + seed)
    green = 128 + 100 * np.cos(ys / 29)
    blue = 128 + 80 * np.sin((xs + ys) / 53)
    pixels = np.stack([red, green, blue], axis=-1) + rng.normal(0, 4, (height, width, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def leaky_exif(orientation: int = 1, thumbnail: bool = True) -> bytes:
    """EXIF full of what a phone leaks: GPS, serial, dates, owner, and a thumbnail."""
    exif = {
        "0th": {piexif.ImageIFD.Make: b"Google", piexif.ImageIFD.Model: b"Pixel 8",
                piexif.ImageIFD.Artist: b"Jane Parent", piexif.ImageIFD.Orientation: orientation,
                piexif.ImageIFD.DateTime: b"2024:06:12 15:30:00"},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:06:12 15:30:00",
                 piexif.ExifIFD.BodySerialNumber: b"SERIAL-123456",
                 piexif.ExifIFD.CameraOwnerName: b"Jane Parent"},
        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (3013, 100)),
                piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (4012, 100))},
    }
    if thumbnail:
        thumb = io.BytesIO()
        Image.fromarray(photo_pixels(64, 48)).save(thumb, "JPEG")
        exif["1st"] = {piexif.ImageIFD.JPEGInterchangeFormat: 0, piexif.ImageIFD.JPEGInterchangeFormatLength: 0}
        exif["thumbnail"] = thumb.getvalue()
    return piexif.dump(exif)


def write_leaky_jpeg(path: Path, pixels: np.ndarray | None = None, orientation: int = 1) -> Path:
    """A JPEG with EXIF (GPS, serial, thumbnail), XMP, a comment and a motion-photo-like trailer."""
    pixels = photo_pixels() if pixels is None else pixels
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Jane Parent</dc:creator></x:xmpmeta>'
    Image.fromarray(pixels).save(buffer, "JPEG", quality=92, exif=leaky_exif(orientation),
                                 comment=b"Emma, 12 Oak Street", xmp=xmp)
    path.write_bytes(buffer.getvalue() + b"\x00\x00\x00\x18ftypmp42" + b"VIDEO" * 50)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


class FakeDetector:
    """Returns fixed boxes (in the coordinates of whatever image it is given), or raises."""

    name = "fake"

    def __init__(self, faces=(), error: Exception | None = None):
        self.faces, self.error = list(faces), error

    def detect(self, rgb):
        if self.error:
            raise self.error
        return self.faces


@pytest.fixture
def fake_detector(monkeypatch):
    """Install a FakeDetector. It lives in this process, so batches run here too, without
    worker processes (and so without a time budget)."""
    def install(faces=(), error=None):
        detector = FakeDetector([Face(tuple(b), 0.9) for b in faces], error)
        monkeypatch.setattr(detection, "get_detector", lambda options: detector)
        monkeypatch.setattr(executors, "LocalPool", InProcess)
        return detector
    return install


@pytest.fixture
def samples(tmp_path) -> Path:
    """A private copy of the bundled sample images."""
    folder = tmp_path / "photos"
    shutil.copytree(SAMPLES, folder)
    return folder


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def exiftool_tags(path: Path) -> dict:
    """All tags exiftool reads, or skip the test with a clear reason when it is not installed."""
    import json
    import subprocess

    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl); "
                    "the independent metadata check needs it")
    out = subprocess.run(["exiftool", "-j", "-a", "-G1", "-u", str(path)], capture_output=True, check=True)
    return json.loads(out.stdout)[0]
