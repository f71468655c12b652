"""scan: what a photo gives away, in plain words."""

from __future__ import annotations

import io

import builders
import pytest
from PIL import Image

from photoguard.parts.formats import sniff
from photoguard.parts.metadata import harmless_info, read_metadata
from photoguard.parts.picture import register_heif


def metadata(data: bytes):
    register_heif()
    image = Image.open(io.BytesIO(data))
    return read_metadata(image, sniff(data[:32]).containers(data))


def test_jpeg_risks_in_plain_words():
    found = metadata(builders.jpeg(trailer=builders.MP4))
    words = found.risks()
    assert words[0] == "GPS 48.85833 N, 2.29444 E"
    assert "body serial PLANTED-BODY-1" in words and "lens serial PLANTED-LENS-2" in words
    assert words.count("name PLANTED Artist") == 1  # artist and copyright holder: said once
    assert "maker notes" in words and "embedded thumbnail" in words and "XMP" in words
    assert "IPTC/Photoshop" in words and "comment" in words and "unknown blocks" in words
    assert f"Motion Photo video ({len(builders.MP4)} bytes)" in words


def test_trailer_that_is_not_a_video():
    words = metadata(builders.jpeg(trailer=b"SEFH" + b"\0" * 3000)).risks()
    assert "bytes after the image end (3 kB)" in words


def test_motion_photo_video_is_named_with_its_size():
    xmp = b'<x:xmpmeta xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MotionPhoto="1"/>'
    data = builders.jpeg(trailer=b"\0" * 2_500_000)
    data = data[:2] + b"\xff\xe1" + (len(xmp) + 31).to_bytes(2, "big") + b"http://ns.adobe.com/xap/1.0/\0" + xmp + data[2:]
    words = metadata(data).risks()
    assert "Motion Photo video (2.5 MB)" in words
    assert not [w for w in words if w.startswith("bytes after")]


def test_mpf_images_are_counted():
    data = builders.mpo()
    found = metadata(data)
    assert found.counts["mpf"] == 1
    assert "extra images (MPF)" in found.risks()


def test_heif_thumbnails_and_metadata_items():
    words = metadata(builders.heic()).risks()
    assert "embedded thumbnail" in words and "XMP" in words
    assert any(w.startswith("GPS ") for w in words)


@pytest.mark.parametrize("build", [builders.png, builders.webp, builders.tiff, builders.gif])
def test_other_formats_report_their_metadata(build):
    assert metadata(build()).kinds


def test_a_clean_copy_gives_nothing_away(tmp_path):
    from photoguard.options import Options
    from photoguard.pipeline import clean_file

    src = tmp_path / "a.jpg"
    src.write_bytes(builders.jpeg(orientation=6, trailer=builders.MP4))
    clean_file(src, tmp_path / "b.jpg", Options(faces=False))
    found = metadata((tmp_path / "b.jpg").read_bytes())
    assert found.risks() == [] and found.kinds == []


def test_harmless_info_is_only_orientation_and_clean_profiles():
    from photoguard.parts import icc
    from photoguard.parts.formats.jpeg import orientation_exif

    assert harmless_info({"exif": orientation_exif(6)}) == {"exif"}
    assert harmless_info({"exif": builders.exif_bytes()}) == set()
    assert harmless_info({"icc_profile": icc.sanitise(builders.device_profile())}) == {"icc_profile"}
    assert harmless_info({"icc_profile": builders.device_profile()}) == set()


def test_blank_camera_make_is_not_a_crash(tmp_path):
    """Found by bench/fuzz.py: a Make tag holding only white space."""
    import io

    import piexif
    from PIL import Image

    from photoguard import Options, scan_file

    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"\x0b ", piexif.ImageIFD.Model: b"X100"}})
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG", exif=exif)
    (tmp_path / "a.jpg").write_bytes(out.getvalue())
    assert scan_file(tmp_path / "a.jpg", Options(faces=False)).metadata.camera == "X100"
