"""Small photos full of metadata, built in code: every identifying value contains PLANTED."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import piexif
from PIL import Image, PngImagePlugin

from photoguard.parts import icc

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


#: the colour of the made-up face in animations and pages (see test_frames.MarkerDetector)
MARKER = (255, 0, 255)


def marker() -> tuple[np.ndarray, np.ndarray]:
    """The made-up face: a 12 px disc of MARKER and green 2 px cells (detail that obscuring
    removes, as it does a face's), and the disc's mask."""
    cells = (np.indices((12, 12)) // 2).sum(axis=0) % 2 == 0
    colours = np.where(cells[..., None], np.array(MARKER, np.uint8), np.array((0, 255, 0), np.uint8))
    ys, xs = np.indices((12, 12)) - 5.5
    return colours, ys**2 + xs**2 <= 36


def _put_marker(pixels: np.ndarray, x: int, y: int) -> None:
    colours, disc = marker()
    pixels[y : y + 12, x : x + 12][disc] = colours[disc]


def frames(count: int = 8, size=(64, 48), marked=range(2, 6), transparent: bool = True) -> list[Image.Image]:
    """An animation's frames: a picture panning sideways, its left columns transparent, and a
    made-up face (a MARKER square) moving across it in the ``marked`` frames."""
    out = []
    for index in range(count):
        pixels = np.roll(np.asarray(picture(size)), 3 * index, axis=1)  # a copy
        alpha = np.full(pixels.shape[:2], 255, np.uint8)
        if transparent:
            alpha[:, :8] = 0
        if index in marked:
            x = 14 + 2 * index
            _put_marker(pixels, x, 20)
        out.append(Image.fromarray(np.dstack([pixels, alpha]), "RGBA"))
    return out


def animation(kind: str, count: int = 8, loop: int | None = 0, marked=range(2, 6),
              transparent: bool = True) -> bytes:
    """An animated GIF, WebP or PNG of ``frames``, each shown for a different time, carrying
    metadata: GIF a comment and an unknown application block, WebP EXIF, XMP and an unknown
    chunk, PNG text chunks and EXIF."""
    shown = frames(count, marked=marked, transparent=transparent)
    timing = {"save_all": True, "append_images": shown[1:], "duration": [40 + 10 * i for i in range(count)]}
    if loop is not None:
        timing["loop"] = loop
    out = io.BytesIO()
    if kind == "gif":
        shown[0].save(out, "GIF", comment=b"PLANTED comment", disposal=2, **timing)
        data = out.getvalue()
        application = b"\x21\xff\x0bPLANTEDAPP1" + bytes([len(PLANTED)]) + PLANTED + b"\0"
        return data[:-1] + application + data[-1:]
    if kind == "webp":
        shown[0].save(out, "WEBP", lossless=True, exif=exif_bytes(thumbnail=False), xmp=XMP, **timing)
        data = out.getvalue() + b"PLNT" + struct.pack("<I", len(PLANTED)) + PLANTED + b"\0" * (len(PLANTED) & 1)
        return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "PLANTED author")
    shown[0].save(out, "PNG", pnginfo=info, exif=exif_bytes(thumbnail=False), **timing)
    return out.getvalue()


def pages(sizes=((64, 48), (40, 56), (64, 48)), marked: int = 1) -> bytes:
    """A multi-page TIFF, pages of different sizes, the made-up face on page ``marked``,
    a description and EXIF on the first page."""
    shown = []
    for index, size in enumerate(sizes):
        page = picture(size, seed=index)
        if index == marked:
            pixels = np.array(page)
            _put_marker(pixels, 10, 10)
            page = Image.fromarray(pixels)
        shown.append(page)
    exif = Image.Exif()
    exif.load(exif_bytes(thumbnail=False))
    out = io.BytesIO()
    shown[0].save(out, "TIFF", save_all=True, append_images=shown[1:], exif=exif,
                  description="PLANTED description")
    return out.getvalue()


def heic_burst(count: int = 3, primary: int = 1, exif: bool = True) -> bytes:
    """A HEIF file holding ``count`` pictures (as a burst does), the one at ``primary`` primary."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    shown = [picture(seed=index) for index in range(count)]
    out = io.BytesIO()
    shown[0].save(out, "HEIF", save_all=True, append_images=shown[1:], primary_index=primary, quality=90,
                  exif=exif_bytes(thumbnail=False) if exif else None)
    return out.getvalue()


def _box(kind: bytes, payload: bytes, version: int | None = None) -> bytes:
    head = b"" if version is None else struct.pack(">I", version)
    return struct.pack(">I4s", 8 + len(head) + len(payload), kind) + head + payload


def heic_with_depth_map() -> bytes:
    """A HEIF file whose second picture is the primary's depth map: an ``auxl`` reference and an
    ``auxC`` property added to what pillow-heif writes for two pictures (items 1 and 2)."""
    from photoguard.parts.isobmff import children as walk

    data = heic_burst(2, primary=0, exif=False)
    ftyp, meta, *_ = walk(data, 0, len(data))
    ftyp_end, meta_body, meta_end = ftyp.end, meta.body, meta.end
    children = b""
    for box in walk(data, meta_body + 4, meta_end):
        if box.type == "iprp":
            properties = {p.type: (p.body, p.end) for p in walk(data, box.body, box.end)}
            start, stop = properties["ipco"]
            index = len(list(walk(data, start, stop))) + 1  # 1-based: the new property's
            ipco = _box(b"ipco", data[start:stop] + _box(b"auxC", b"urn:mpeg:hevc:2015:auxid:2\0", 0))
            start, stop = properties["ipma"]
            ipma = bytearray(data[start:stop])  # version 0: count, then item (2 bytes), count, 1-byte entries
            at = 8
            for _ in range(struct.unpack(">I", ipma[4:8])[0]):
                item, count = struct.unpack(">HB", ipma[at : at + 3])
                if item == 2:
                    ipma[at + 2] += 1
                    ipma[at + 3 + count : at + 3 + count] = bytes([0x80 | index])
                    count += 1
                at += 3 + count
            children += _box(b"iprp", ipco + _box(b"ipma", bytes(ipma)))
        else:
            children += data[box.start : box.end]
    children += _box(b"iref", _box(b"auxl", struct.pack(">HHH", 2, 1, 1)), 0)
    meta = bytearray(_box(b"meta", data[meta_body : meta_body + 4] + children))
    shift = len(meta) - (meta_end - meta_body + 8)
    # the pictures moved by ``shift``: iloc version 0 with 4-byte offsets, in base offsets when it has them
    at = meta.index(b"iloc") + 8
    base = meta[at + 1] >> 4
    at += 4
    for _ in range(struct.unpack(">H", meta[at - 2 : at])[0]):
        at += 4  # item and data reference
        if base:
            meta[at : at + 4] = struct.pack(">I", struct.unpack(">I", meta[at : at + 4])[0] + shift)
            at += 4
        extents = struct.unpack(">H", meta[at : at + 2])[0]
        at += 2
        for _ in range(extents):
            if not base:
                meta[at : at + 4] = struct.pack(">I", struct.unpack(">I", meta[at : at + 4])[0] + shift)
            at += 8
    return data[:ftyp_end] + bytes(meta) + data[meta_end:]


def _gif_image(image: Image.Image) -> tuple[bytes, bytes]:
    """The colour table and the image data (LZW code size and sub-blocks) Pillow writes for ``image``."""
    out = io.BytesIO()
    image.save(out, "GIF")
    data = out.getvalue()
    start = pos = 13 + 3 * 2 ** ((data[10] & 7) + 1)
    while data[pos] == 0x21:  # extensions before the image: skip their sub-blocks
        pos += 2
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
    return data[13:start], data[pos + 10 : -1]


def gif_with_local_palettes() -> bytes:
    """Two frames of 120x90, each with 256 colours of its own: the second redraws the right half
    in a colour table of its own, so the frame shown holds more than 256 colours."""
    left = picture((120, 90)).quantize(256, dither=Image.Dither.NONE)
    right = np.asarray(picture((60, 90), seed=5)).copy()
    right[..., 0] = 255 - right[..., 0]
    right = Image.fromarray(right).quantize(256, dither=Image.Dither.NONE)
    (table, data), (local_table, local_data) = _gif_image(left), _gif_image(right)
    size = (len(table) // 3).bit_length() - 2  # a table holds 2 ** (size + 1) colours
    control = b"\x21\xf9\x04\x04\x0a\x00\x00\x00"  # keep the frame, 100 ms
    return (b"GIF89a" + struct.pack("<HHBBB", 120, 90, 0x80 | (7 << 4) | size, 0, 0) + table
            + b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
            + control + b"\x2c" + struct.pack("<HHHHB", 0, 0, 120, 90, 0) + data
            + control + b"\x2c" + struct.pack("<HHHHB", 60, 0, 60, 90, 0x80 | size) + local_table + local_data
            + b"\x3b")
