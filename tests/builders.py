"""Small photos full of metadata, built in code: every identifying value contains PLANTED."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import piexif
from PIL import Image, PngImagePlugin

from photoguard import icc

PLANTED = b"PLANTED"
XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
       b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="PLANTED creator"/></rdf:RDF>'
       b'</x:xmpmeta><?xpacket end="w"?>')
#: the start of an MP4 file, as a Motion Photo appends one after the JPEG
MP4 = struct.pack(">I4s4sI4s", 20, b"ftyp", b"mp42", 0, b"isom") + b"\0\0\0\x10mdat" + PLANTED + b"\0" * 5


def picture(size=(64, 48), seed=0) -> Image.Image:
    """A smooth picture with some texture, asymmetric so that any rotation shows."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + 2 * y) * 255 // (w + 2 * h)], axis=-1)
    rgb[: h // 4, : w // 4] = (250, 20, 20)  # a red corner marks the top left
    rgb = rgb + rng.integers(-4, 5, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def exif_bytes(orientation: int = 1, thumbnail: bool = True) -> bytes:
    thumb = io.BytesIO()
    picture((16, 12)).save(thumb, "JPEG")
    data = {
        "0th": {piexif.ImageIFD.Make: b"PLANTED Make", piexif.ImageIFD.Model: b"PLANTED Model",
                piexif.ImageIFD.Artist: b"PLANTED Artist", piexif.ImageIFD.Copyright: b"PLANTED Artist",
                piexif.ImageIFD.Software: b"PLANTED Soft", piexif.ImageIFD.Orientation: orientation,
                piexif.ImageIFD.DateTime: b"2021:06:01 12:00:00"},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2021:06:01 12:00:00",
                 piexif.ExifIFD.BodySerialNumber: b"PLANTED-BODY-1",
                 piexif.ExifIFD.LensSerialNumber: b"PLANTED-LENS-2",
                 piexif.ExifIFD.CameraOwnerName: b"PLANTED Owner",
                 piexif.ExifIFD.MakerNote: b"PLANTED maker note"},
        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (30, 1)),
                piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (40, 1))},
    }
    if thumbnail:
        data["1st"] = {piexif.ImageIFD.JPEGInterchangeFormat: 0, piexif.ImageIFD.JPEGInterchangeFormatLength: 0}
        data["thumbnail"] = thumb.getvalue()
    return piexif.dump(data)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(orientation: int = 1, image: Image.Image | None = None, profile: bytes | None = None,
         trailer: bytes = b"", progressive: bool = False, quality: int = 85) -> bytes:
    """A JPEG with EXIF (GPS, serials, thumbnail, maker note), XMP, extended XMP, IPTC,
    COM, an unknown APP9, an ICC profile that names a device, and ``trailer`` after EOI."""
    out = io.BytesIO()
    (image or picture()).save(out, "JPEG", quality=quality, progressive=progressive,
                              exif=exif_bytes(orientation), comment=b"PLANTED comment",
                              icc_profile=device_profile() if profile is None else profile)
    data = out.getvalue()
    extra = (_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP)
             + _segment(0xE1, b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32 + b"\0\0\0\x07\0\0\0\0" + PLANTED)
             + _segment(0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x0c\x1c\x02\x50\0\x07" + PLANTED + b"\0")
             + _segment(0xE9, b"PLANTED vendor block"))
    return data[:2] + extra + data[2:] + trailer


def device_profile(primaries=icc.DISPLAY_P3) -> bytes:
    """A Display P3 profile whose header and texts name a phone maker, as phones write them."""
    profile = bytearray(icc.matrix_profile(primaries, name="Display P3"))
    profile[48:56] = b"PLNTPLNT"  # device manufacturer and model
    profile[80:84] = b"PLNT"  # creator
    # an extra text tag naming the device, appended after the others
    text = b"text\0\0\0\0" + PLANTED + b" Phone 12\0"
    (count,) = struct.unpack(">I", profile[128:132])
    table_end = 132 + 12 * count
    shifted = bytearray(profile[:table_end]) + b"\0" * 12 + profile[table_end:]
    for i in range(count):  # every data offset moves by the new table entry
        at = 132 + 12 * i + 4
        shifted[at : at + 4] = struct.pack(">I", struct.unpack(">I", shifted[at : at + 4])[0] + 12)
    shifted[128:132] = struct.pack(">I", count + 1)
    shifted[table_end : table_end + 12] = struct.pack(">4sII", b"dmdd", len(shifted), len(text))
    shifted += text
    shifted[0:4] = struct.pack(">I", len(shifted))
    return bytes(shifted)


def mpo() -> bytes:
    out = io.BytesIO()
    first = picture()
    first.save(out, "MPO", save_all=True, append_images=[picture(seed=1)], exif=exif_bytes())
    return out.getvalue()


def png_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def png(orientation: int = 1, trailer: bytes = b"") -> bytes:
    """A PNG with text chunks (tEXt, zTXt, iTXt, XMP), tIME, a private chunk, EXIF (GPS...),
    an ICC profile that names a device, and ``trailer`` after IEND."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "PLANTED author")
    info.add_text("Comment", "PLANTED comment " * 20, zip=True)
    info.add_itxt("Description", "PLANTED itxt")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", b"\x07\xe5\x06\x01\x0c\0\0")
    info.add(b"prVt", PLANTED)  # a private chunk
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info, exif=exif_bytes(orientation, thumbnail=False),
                   icc_profile=device_profile())
    return out.getvalue() + trailer


def webp(lossless: bool = False, orientation: int = 1) -> bytes:
    out = io.BytesIO()
    picture().save(out, "WEBP", lossless=lossless, exif=exif_bytes(orientation, thumbnail=False), xmp=XMP,
                   icc_profile=device_profile())
    data = out.getvalue()
    # an unknown chunk before the end of the RIFF, and the size fixed up
    chunk = b"PLNT" + struct.pack("<I", len(PLANTED)) + PLANTED + b"\0" * (len(PLANTED) & 1)
    data = data + chunk
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


def tiff(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif.load(exif_bytes(orientation, thumbnail=False))
    out = io.BytesIO()
    picture().save(out, "TIFF", exif=exif)
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    picture().convert("P").save(out, "GIF", comment=b"PLANTED comment")
    return out.getvalue()


def heic(orientation: int = 1) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    picture().save(out, "HEIF", exif=exif_bytes(orientation, thumbnail=False), xmp=XMP, quality=90,
                   thumbnails=[16])
    return out.getvalue()
