"""The lossless PNG path: a PNG with no face is rebuilt from its decoded pixels and parsed
display chunks, keeping every pixel, unless it cannot be (animation, unknown critical chunks,
an EXIF turn to bake in)."""

from __future__ import annotations

import io
import json
import struct
import zlib

import builders
import numpy as np
import pytest
from builders import png_chunk
from conftest import exiftool_tags
from PIL import Image, ImageOps

from photoguard.errors import VerificationError
from photoguard.media.copies import verify_copy
from photoguard.options import Options
from photoguard.parts import icc
from photoguard.parts.formats import BY_NAME
from photoguard.parts.formats.png_lossless import strip
from photoguard.pipeline import clean_file

NO_FACES = Options(faces=False)
KEPT = {"IHDR", "PLTE", "tRNS", "gAMA", "cHRM", "sRGB", "pHYs", "sBIT", "IDAT", "IEND", "iCCP"}
#: Adam7 passes: first row, first column, row step, column step
ADAM7 = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]


def chunks(data: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """(type, payload) of each chunk up to IEND, and the bytes after it: read here, independently
    of photoguard's walker, with every CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, found = 8, []
    while True:
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        payload = data[pos + 8 : pos + 8 + length]
        assert data[pos + 8 + length : pos + 12 + length] == struct.pack(">I", zlib.crc32(ctype + payload))
        found.append((ctype.decode("latin-1"), payload))
        pos += 12 + length
        if ctype == b"IEND":
            return found, data[pos:]


def idat(data: bytes) -> bytes:
    return b"".join(payload for name, payload in chunks(data)[0] if name == "IDAT")


def names(data: bytes) -> list[str]:
    return [name for name, _ in chunks(data)[0]]


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def with_chunks(png: bytes, *extra: bytes) -> bytes:
    """``png`` with ``extra`` chunks inserted right after IHDR."""
    return png[:33] + b"".join(extra) + png[33:]


def saved(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1, **options)  # not Pillow's default: a re-encode shows
    return out.getvalue()


def hand_made(values: np.ndarray, colour_type: int, interlaced: bool = False) -> bytes:
    """A PNG written here (filter 0, any depth numpy gives): Pillow writes neither 16-bit RGB
    nor interlaced PNGs."""
    height, width = values.shape[:2]
    big_endian = values.astype(values.dtype.newbyteorder(">"))
    rows = [b"\0" + row.tobytes() for y0, x0, dy, dx in (ADAM7 if interlaced else [(0, 0, 1, 1)])
            for row in big_endian[y0::dy, x0::dx] if row.size]
    header = struct.pack(">IIBBBBB", width, height, values.dtype.itemsize * 8, colour_type, 0, 0, int(interlaced))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + png_chunk(b"IEND", b""))


def clean(tmp_path, data: bytes, name: str = "in") -> bytes:
    src = tmp_path / f"{name}.png"
    src.write_bytes(data)
    dst = tmp_path / "out" / f"{name}.png"
    assert clean_file(src, dst, NO_FACES).status == "cleaned"
    return dst.read_bytes()


LEAKS = (png_chunk(b"tEXt", b"Author\0" + builders.PLANTED), png_chunk(b"eXIf", builders.exif_bytes(thumbnail=False)[6:]),
         png_chunk(b"prVt", builders.PLANTED))


def test_a_png_full_of_metadata_is_rebuilt_with_its_pixels(tmp_path):
    source = builders.png(trailer=b"PLANTED trailer")
    found, _ = chunks(source)
    assert {"tEXt", "zTXt", "iTXt", "eXIf", "tIME", "prVt", "iCCP"} <= {name for name, _ in found}
    out = clean(tmp_path, source)
    assert np.array_equal(pixels(source), pixels(out))
    kept, trailer = chunks(out)
    assert trailer == b"" and builders.PLANTED not in out and b"PLNT" not in out
    assert {name for name, _ in kept} <= KEPT
    assert names(out)[:2] == ["IHDR", "iCCP"] and names(out).count("iCCP") == 1
    # the display chunks hold the source's values
    display = ("gAMA", "cHRM", "sRGB", "pHYs")
    assert [c for c in kept if c[0] in display] == [c for c in found if c[0] in display]
    iccp = dict(kept)["iCCP"]
    assert iccp.startswith(b"ICC Profile\0\0")
    assert zlib.decompress(iccp[13:]) == icc.sanitise(builders.device_profile())
    with Image.open(io.BytesIO(out)) as copy:
        assert icc.is_clean(copy.info["icc_profile"])
        assert not copy.getexif()
    assert BY_NAME["png"].leftovers(out) == []
    assert clean(tmp_path, out, "again") == out


@pytest.mark.parametrize("kind", ["16-bit grey", "16-bit RGB", "palette+tRNS", "grey+alpha", "interlaced"])
def test_png_variants_keep_their_exact_picture_data(tmp_path, kind):
    rgb = np.asarray(builders.picture())
    source = {
        "16-bit grey": lambda: saved(Image.fromarray(rgb[..., 0].astype(np.uint16) * 256 + 3)),
        "16-bit RGB": lambda: hand_made(rgb.astype(np.uint16) * 251, colour_type=2),
        "palette+tRNS": lambda: saved(builders.picture().convert("P", palette=Image.Palette.ADAPTIVE), transparency=3),
        "grey+alpha": lambda: saved(builders.picture().convert("LA")),
        "interlaced": lambda: hand_made(rgb, colour_type=2, interlaced=True),
    }[kind]()
    source = with_chunks(source, *LEAKS)
    out = clean(tmp_path, source)
    if kind != "palette+tRNS":  # a palette copy keeps only the colours its pixels use, renumbered
        assert np.array_equal(pixels(out), pixels(source))
    assert set(names(out)) <= KEPT - {"iCCP"} and builders.PLANTED not in out
    with Image.open(io.BytesIO(source)) as original, Image.open(io.BytesIO(out)) as copy:
        assert original.mode == copy.mode
        assert np.array_equal(np.asarray(original.convert("RGBA")), np.asarray(copy.convert("RGBA")))


def animated(frames: int = 1) -> bytes:
    """A PNG that is an APNG whose single frame is the default image."""
    control = png_chunk(b"acTL", struct.pack(">II", frames, 0))
    frame = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 64, 48, 0, 0, 1, 10, 0, 0))
    return with_chunks(saved(builders.picture()), control, frame)


def test_apng_is_reencoded(tmp_path):
    source = animated()
    out = clean(tmp_path, source)
    assert not {"acTL", "fcTL", "fdAT"} & set(names(out))
    assert idat(out) != idat(source)  # re-encoded at Pillow's default level
    assert np.array_equal(pixels(out), pixels(source))


def test_turned_png_is_reencoded_upright_without_a_profile(tmp_path):
    plain = builders.picture()
    source = with_chunks(saved(plain), png_chunk(b"eXIf", builders.exif_bytes(6, thumbnail=False)[6:]))
    out = clean(tmp_path, source)
    with Image.open(io.BytesIO(out)) as copy:
        assert copy.size == (48, 64) and not copy.getexif()
        assert np.array_equal(np.asarray(copy), np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(source)))))
    # with a colour profile: converted to sRGB, and no profile kept
    out = clean(tmp_path, builders.png(orientation=6), "profiled")
    assert "iCCP" not in names(out) and "eXIf" not in names(out)
    with Image.open(io.BytesIO(out)) as copy:
        assert copy.size == (48, 64) and not copy.info.get("icc_profile")


def test_an_exif_turn_after_the_image_data_is_found_too(tmp_path):
    # the PNG spec allows eXIf after IDAT; photoguard reads the header only when nothing
    # but IEND follows the data, so this one must still be decoded, found turned and baked in
    plain = saved(builders.picture())
    turned = plain[:-12] + png_chunk(b"eXIf", builders.exif_bytes(6, thumbnail=False)[6:]) + plain[-12:]
    with Image.open(io.BytesIO(turned)) as source:
        assert source.getexif().get(0x0112) == 6
    with Image.open(io.BytesIO(clean(tmp_path, turned))) as copy:
        assert copy.size == (48, 64)


def test_strip_refuses_what_it_cannot_copy():
    good = saved(builders.picture())
    strip(good, None)
    for bad in (
        animated(),
        with_chunks(good, png_chunk(b"ZZZZ", b"")),  # an unknown critical chunk
        good[:-12],  # no IEND
        good[:8] + good[33:],  # no IHDR
        good[:8] + png_chunk(b"IHDR", good[16:29]) + good[8:],  # two of them
        with_chunks(good, png_chunk(b"gAMA", b"\0\0\xb1\x8f")[:-4] + bytes(4)),  # a display chunk's CRC is wrong
    ):
        with pytest.raises(ValueError):
            strip(bad, None)


def test_unknown_critical_chunk_forces_a_reencode(tmp_path):
    source = with_chunks(saved(builders.picture()), png_chunk(b"ZZZZ", b""))
    out = clean(tmp_path, source)
    assert "ZZZZ" not in names(out) and idat(out) != idat(source)


def test_verify_checks_the_kept_profile_by_content(tmp_path):
    out = strip(builders.png(), builders.device_profile())
    path = tmp_path / "x.png"
    path.write_bytes(out)
    verify_copy(path, BY_NAME["png"], (64, 48))
    found, _ = chunks(out)
    dirty = [
        b"ICC Profile\0\0" + zlib.compress(builders.device_profile()),  # the device's own profile
        b"Jane's MacBook\0\0" + zlib.compress(icc.sanitise(builders.device_profile())),  # a telling name
        dict(found)["iCCP"] + builders.PLANTED,  # bytes after the profile
    ]
    for payload in dirty:
        tampered = b"\x89PNG\r\n\x1a\n" + b"".join(png_chunk(name.encode(), payload if name == "iCCP" else data)
                                                   for name, data in found)
        path.write_bytes(tampered)
        with pytest.raises(VerificationError):
            verify_copy(path, BY_NAME["png"], (64, 48))


def test_exiftool_sees_nothing_identifying_in_a_lossless_png(tmp_path):
    out = clean(tmp_path, builders.png(trailer=b"PLANTED trailer"))
    (tmp_path / "probe.png").write_bytes(out)
    tags = exiftool_tags(tmp_path / "probe.png")
    dump = json.dumps(tags)
    assert "PLANTED" not in dump and "PLNT" not in dump
    groups = {key.split(":")[0] for key in tags if ":" in key}
    assert not groups & {"IFD0", "ExifIFD", "GPS", "XMP-x", "XMP-dc"}
    assert not [key for key in tags if key.split(":")[-1] in ("Warning", "Author", "Comment", "Description",
                                                             "ModifyDate", "ExifByteOrder")]
    assert tags["PNG:ProfileName"] == "ICC Profile"
    assert tags.get("ICC-header:DeviceManufacturer", "") in ("", 0, "0")
    assert tags.get("ICC-header:ProfileCreator", "") in ("", 0, "0")
