"""A folder of hostile and broken files, cleaned and scanned together with good ones.

The bar: no traceback, no hang, every bad file named with a reason, every good file cleaned.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import photo_pixels, write_leaky_jpeg
from PIL import Image

from photoguard.cli import cli


def _jpeg(pixels=None, **save) -> bytes:
    out = io.BytesIO()
    Image.fromarray(photo_pixels(96, 64) if pixels is None else pixels).save(out, "JPEG", **save)
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) if crc is None else crc)


def _with_exif_segment(payload: bytes) -> bytes:
    """A good JPEG carrying the given raw EXIF payload in APP1."""
    jpeg = _jpeg()
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 8) + b"Exif\0\0" + payload
    return jpeg[:2] + segment + jpeg[2:]


def _tiff_header_ifd(entries: list[tuple[int, int, int, int]], next_ifd: int = 0) -> bytes:
    body = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack("<HHII", tag, kind, count, value)
    return body + struct.pack("<I", next_ifd)


def _heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.fromarray(photo_pixels(64, 64)).save(out, "HEIF", quality=60)
    return out.getvalue()


def _webp() -> bytes:
    out = io.BytesIO()
    Image.fromarray(photo_pixels(64, 48)).save(out, "WEBP")
    return out.getvalue()


def build_corpus(folder: Path) -> tuple[list[str], list[str]]:
    """Write the corpus; returns (names that must be cleaned, names that must fail)."""
    good, bad = {}, {}
    jpeg = _jpeg(quality=90)
    png = _png(Image.fromarray(photo_pixels(64, 48)))
    heic, webp = _heic(), _webp()

    # good files in unusual shapes
    good["cmyk.jpg"] = (lambda o: (Image.new("CMYK", (40, 30), (10, 200, 30, 5)).save(o, "JPEG"), o.getvalue())[1])(io.BytesIO())
    good["png16.png"] = _png(Image.fromarray((np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20)))
    palette = Image.fromarray(photo_pixels(40, 30)).convert("P")
    palette.info["transparency"] = 0
    good["palette_transparent.png"] = (lambda o: (palette.save(o, "PNG", transparency=0), o.getvalue())[1])(io.BytesIO())
    good["grey_alpha.png"] = _png(Image.new("LA", (30, 20), (100, 50)))
    good["name_\udce9t\udce9.jpg"] = jpeg  # not valid UTF-8 on disk
    good["malformed_xmp.jpg"] = _jpeg(xmp=b"<x:xmpmeta <<< not xml")
    good["exif_absurd_count.jpg"] = _with_exif_segment(_tiff_header_ifd([(0x010F, 2, 0x7FFFFFFF, 26)]))
    good["exif_offset_past_end.jpg"] = _with_exif_segment(_tiff_header_ifd([(0x8769, 4, 1, 0xFFFFFF)]))
    good["exif_ifd_loop.jpg"] = _with_exif_segment(_tiff_header_ifd([(0x0112, 3, 1, 1)], next_ifd=8))
    good["good.jpg"] = write_leaky_jpeg(folder / "tmp.jpg").read_bytes()
    (folder / "tmp.jpg").unlink()
    good["good.heic"] = heic
    good["good.webp"] = webp

    # broken files
    for cut in (2, 200, len(jpeg) // 2, len(jpeg) - 2):
        bad[f"truncated_{cut}.jpg"] = jpeg[:cut]
    for cut in (8, 40, len(png) - 12):
        bad[f"truncated_{cut}.png"] = png[:cut]
    for cut in (30, len(heic) // 2):
        bad[f"truncated_{cut}.heic"] = heic[:cut]
    for cut in (20, len(webp) // 2):
        bad[f"truncated_{cut}.webp"] = webp[:cut]
    bad["empty.jpg"] = b""
    bad["text.jpg"] = b"hello, not a photo\n"
    bad["soi_eoi_only.jpg"] = b"\xff\xd8\xff\xd9"
    bad["segment_past_end.jpg"] = jpeg[:2] + b"\xff\xe1\xff\xf0Exif\0\0" + b"\0" * 10
    ihdr = png[8:33]
    bad["bad_crc.png"] = png[:8] + _chunk(b"IHDR", ihdr[8:21], crc=0) + png[33:]
    bad["zero_size.png"] = png[:8] + _chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)) + png[33:]
    bad["absurd_size.png"] = png[:8] + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2**31 - 1, 2**31 - 1, 8, 2, 0, 0, 0)) + png[33:]
    sof = jpeg.index(b"\xff\xc0")
    bad["absurd_size.jpg"] = jpeg[: sof + 5] + struct.pack(">HH", 65500, 65500) + jpeg[sof + 9 :]
    bad["garbage_icc.jpg"] = _jpeg(icc_profile=b"\x00" * 10 + b"garbage profile" * 20)
    bad["heic_no_image.heic"] = heic[:heic.index(b"meta") - 4] if b"meta" in heic else heic[:40]
    bad["riff_size_wrong.webp"] = webp[:4] + struct.pack("<I", 10**9) + webp[8:]
    bad["tiff_bad_ifd.tif"] = b"II*\0" + struct.pack("<I", 10**6)
    bad["truncated.gif"] = (lambda o: (Image.new("P", (20, 20)).save(o, "GIF"), o.getvalue()[:20])[1])(io.BytesIO())
    frames = [Image.fromarray(photo_pixels(40, 30, seed=i)).convert("P") for i in range(60)]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:])
    good["animated_many_frames.gif"] = animated.getvalue()
    bad["animated_cut_in_frame_31.gif"] = animated.getvalue()[: len(animated.getvalue()) // 2]

    for name, data in {**good, **bad}.items():
        (folder / os.fsencode(name).decode("utf-8", "surrogateescape")).write_bytes(data)
    return sorted(good), sorted(bad)


def test_corpus_is_large_enough(tmp_path):
    good, bad = build_corpus(tmp_path)
    assert len(good) + len(bad) >= 30


def _special_files(folder: Path) -> list[str]:
    """A FIFO, a symlink loop and (when not root) an unreadable folder: must neither hang nor crash."""
    os.mkfifo(folder / "fifo.jpg")
    (folder / "loop_a.jpg").symlink_to(folder / "loop_b.jpg")
    (folder / "loop_b.jpg").symlink_to(folder / "loop_a.jpg")
    (folder / "dir_loop").symlink_to(folder)
    return ["loop_a.jpg", "loop_b.jpg"]


@pytest.mark.parametrize("command", ["clean", "scan"])
def test_hostile_folder_is_handled_file_by_file(tmp_path, command):
    folder = tmp_path / "in"
    folder.mkdir()
    good, bad = build_corpus(folder)
    bad += _special_files(folder)
    if command == "scan":
        # scan reports a broken profile as found metadata; only a clean copy needs to apply it
        bad.remove("garbage_icc.jpg")
    args = [command, str(folder), "--json", "-j", "2", "--no-faces"]
    if command == "clean":
        args += ["-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    items = {Path(json.loads(line).get("input") or json.loads(line)["path"]).name: json.loads(line)
             for line in result.stdout.splitlines()}
    for name in good:
        assert items[name]["status"] in ("cleaned", "scanned"), (name, items[name])
    for name in bad:
        assert items[name]["status"] == "failed", (name, items[name])
        assert items[name]["error"]
        assert name.encode("utf-8", "surrogateescape").decode("utf-8", "replace") in result.stderr \
            or name in result.stderr
    assert items.get("fifo.jpg", {"status": "skipped"})["status"] in ("skipped", "failed")
    if command == "clean":
        written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file())
        assert len(written) == len(good)
        assert not [n for n in written if n.startswith(".photoguard-")]
