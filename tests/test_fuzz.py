"""Mutated files (bytes flipped, cut, duplicated) fed to scan_file and clean_file.

Only photoguard's own typed errors may escape, and a file that failed leaves no output.
A longer run of the same lives in bench/fuzz.py.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from conftest import leaky_exif, photo_pixels
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photoguard import Options, clean_file, scan_file
from photoguard.errors import PhotoguardError
from photoguard.parts import icc


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


MARK = b"PLNTMARK"


def _png_with(planted: str) -> bytes:
    """A PNG whose ``planted`` kept structure also carries MARK where no decoder reads it."""
    palette = planted in ("PLTE", "tRNS")
    picture = Image.fromarray(photo_pixels(48, 32))
    picture = picture.convert("P", palette=Image.Palette.ADAPTIVE, colors=16) if palette else picture
    out = io.BytesIO()
    picture.save(out, "PNG", **({"transparency": 3} if palette else {"icc_profile": _padded_profile(planted)}))
    data = out.getvalue()
    display = {"gAMA": b"\0\0\xb1\x8f", "cHRM": bytes(32), "sRGB": b"\0", "pHYs": b"\0\0\x0b\x13" * 2 + b"\1",
               "sBIT": b"\x08\x08\x08"}
    chunks, pos = [], 8
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        chunks.append([ctype.decode(), data[pos + 8 : pos + 8 + length]])
        pos += 12 + length
    if planted in display:
        chunks.insert(1, [planted, display[planted]])
    for entry in chunks:
        if entry[0] == planted == "tRNS":
            entry[1] = entry[1].ljust(16, b"\xff") + MARK  # past the 16 colours of the palette
        elif entry[0] == planted and planted in (*display, "IEND"):
            entry[1] += MARK
        elif entry[0] == planted == "PLTE":
            entry[1] += MARK[:6]  # two more colours, used by no pixel
        elif entry[0] == planted == "IDAT":
            entry[1] += MARK  # after the zlib stream
    return data[:8] + b"".join(struct.pack(">I", len(payload)) + name.encode() + payload
                               + struct.pack(">I", zlib.crc32(name.encode() + payload)) for name, payload in chunks)


def _padded_profile(planted: str) -> bytes:
    """An ICC profile whose tag ``planted`` (when it names one) has MARK after its values."""
    profile = bytearray(icc.matrix_profile(icc.DISPLAY_P3, name="Display P3"))
    (count,) = struct.unpack(">I", profile[128:132])
    for i in range(count):
        signature, offset, size = struct.unpack(">4sII", profile[132 + 12 * i : 144 + 12 * i])
        if signature.decode() == planted:
            # the tag's data moved to the end, MARK after its values
            profile[132 + 12 * i : 144 + 12 * i] = struct.pack(">4sII", signature, len(profile), size + len(MARK))
            profile += profile[offset : offset + size] + MARK
    profile[0:4] = struct.pack(">I", len(profile))
    return bytes(profile)


def _inflated(png: bytes) -> bytes:
    """Every zlib stream of ``png`` (IDAT, iCCP) decompressed."""
    found, pos, idat = [], 8, b""
    while pos < len(png):
        length, ctype = struct.unpack(">I4s", png[pos : pos + 8])
        payload = png[pos + 8 : pos + 8 + length]
        if ctype == b"IDAT":
            idat += payload
        elif ctype == b"iCCP":
            found.append(zlib.decompress(payload[payload.index(b"\0") + 2 :]))
        pos += 12 + length
    return b"".join(found) + zlib.decompressobj().decompress(idat)


@pytest.mark.parametrize("planted", ["gAMA", "cHRM", "sRGB", "pHYs", "sBIT", "tRNS", "PLTE", "IDAT", "IEND",
                                     "rXYZ", "wtpt", "rTRC", "chad"])
def test_bytes_planted_in_a_kept_png_structure_never_reach_the_lossless_copy(tmp_path, planted):
    source = _png_with(planted)
    assert MARK[:6] in source or MARK[:6] in _inflated(source)
    src, dst = tmp_path / "in.png", tmp_path / "out" / "in.png"
    src.write_bytes(source)
    clean_file(src, dst, Options(faces=False))
    copy = dst.read_bytes()
    assert MARK[:6] not in copy and MARK[:6] not in _inflated(copy)
    with Image.open(io.BytesIO(source)) as original, Image.open(io.BytesIO(copy)) as cleaned:
        assert np.array_equal(np.asarray(original.convert("RGBA")), np.asarray(cleaned.convert("RGBA")))


def _jpeg_with(planted: str) -> bytes:
    """A JPEG whose ``planted`` kept structure also carries MARK where no decoder reads it."""
    out = io.BytesIO()
    Image.fromarray(photo_pixels(48, 32)).save(out, "JPEG", quality=90, progressive=planted == "between scans")
    data = out.getvalue()
    first_scan = data.index(b"\xff\xda")
    if planted == "after the last block":
        return data[:-2] + MARK + data[-2:]
    if planted == "between scans":
        second_scan = data.index(b"\xff\xda", first_scan + 2)
        return data[:second_scan] + MARK + data[second_scan:]
    segment = {
        "unused DQT": b"\xff\xdb\x00\x43\x03" + MARK * 8,
        "unused DHT": b"\xff\xc4\x00\x1b\x13" + b"\0\0\x08" + b"\0" * 13 + MARK,  # MARK as its symbols
        "APP14": b"\xff\xee\x00\x16Adobe\x00\x64\x00\x00\x00\x00\x01" + MARK,
    }[planted]
    return data[:first_scan] + segment + data[first_scan:]


@pytest.mark.parametrize("planted", ["after the last block", "between scans", "unused DQT", "unused DHT",
                                     "APP14"])
def test_bytes_planted_in_a_kept_jpeg_structure_never_reach_the_copy(tmp_path, planted):
    source = _jpeg_with(planted)
    src, dst = tmp_path / "in.jpg", tmp_path / "out" / "in.jpg"
    src.write_bytes(source)
    clean_file(src, dst, Options(faces=False))
    copy = dst.read_bytes()
    assert MARK[:6] not in copy
    with Image.open(io.BytesIO(source)) as original, Image.open(io.BytesIO(copy)) as cleaned:
        assert np.abs(np.asarray(original, int) - np.asarray(cleaned, int)).mean() < 2
        # the quality is kept: the tables the frame's components use, and no other
        used = [original.quantization[component[3]] for component in original.layer]
        assert [cleaned.quantization[component[3]] for component in cleaned.layer] == used
