"""Mutated files (bytes flipped, cut, duplicated) fed to scan_file and clean_file.

Only photoguard's own typed errors may escape, and a file that failed leaves no output.
A longer run of the same lives in bench/fuzz.py.
"""

from __future__ import annotations

import io

from conftest import leaky_exif, photo_pixels
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photoguard import Options, clean_file, scan_file
from photoguard.errors import PhotoguardError


def seeds() -> dict[str, bytes]:
    """Small valid files of each format, carrying metadata so the parsers are exercised."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.fromarray(photo_pixels(48, 32))
    made = {}
    for name, fmt, extra in [("jpeg", "JPEG", {"exif": leaky_exif(6), "comment": b"hi"}),
                             ("png", "PNG", {"exif": leaky_exif()}), ("webp", "WEBP", {"exif": leaky_exif()}),
                             ("tiff", "TIFF", {}), ("gif", "GIF", {}), ("heif", "HEIF", {"exif": leaky_exif()})]:
        out = io.BytesIO()
        image.save(out, fmt, **extra)
        made[name] = out.getvalue()
    return made


SEEDS = seeds()


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "duplicate", "zero"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[: max(at, 1)] if draw(st.booleans()) else data[:at] + data[at + draw(st.integers(1, 64)):]
        elif kind == "duplicate":
            length = draw(st.integers(1, 64))
            data = data[:at] + data[at : at + length] * 2 + data[at + length :]
        else:
            data[at : at + draw(st.integers(1, 16))] = b"\0" * len(data[at : at + 16])
        if not data:
            data = bytearray(b"\xff")
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_mutated_files_raise_only_typed_errors_and_leave_no_output(tmp_path, data):
    src, dst = tmp_path / "in.bin", tmp_path / "out" / "copy.img"
    src.write_bytes(data)
    options = Options(faces=False, max_pixels=4_000_000, overwrite=True)
    try:
        scan_file(src, options)
    except PhotoguardError:
        pass
    dst.unlink(missing_ok=True)
    try:
        clean_file(src, dst, options)
    except PhotoguardError:
        assert not dst.exists()
    if (tmp_path / "out").exists():
        assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".photoguard-")]
