"""JPEG (and MPO, whose primary image is a JPEG): marker segments."""

from __future__ import annotations

import re
import struct
from functools import lru_cache

import piexif

from .. import icc
from .base import Container, EncodeHints, FormatHandler

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
#: pseudo-marker for stray bytes between segments
JUNK = -1
#: markers that stand alone, without a length field
_STANDALONE = {0x01, SOI, EOI} | set(range(0xD0, 0xD8))
_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_NAMES = {0xC4: "DHT", 0xCC: "DAC", 0xDB: "DQT", 0xDD: "DRI", SOS: "SOS", 0xFE: "COM"}

# APPn payload signatures, and the metadata kind each one carries
_APP_SIGNATURES = [
    (0xE0, b"JFIF\0", "APP0:JFIF", ""),
    (0xE0, b"JFXX\0", "APP0:JFXX", "thumbnail"),
    (0xE1, b"Exif\0", "APP1:Exif", "exif"),
    (0xE1, b"http://ns.adobe.com/xap/1.0/\0", "APP1:XMP", "xmp"),
    (0xE1, b"http://ns.adobe.com/xmp/extension/\0", "APP1:ExtendedXMP", "xmp"),
    (0xE2, b"ICC_PROFILE\0", "APP2:ICC", "icc"),
    (0xE2, b"MPF\0", "APP2:MPF", "mpf"),
    (0xED, b"Photoshop 3.0\0", "APP13:Photoshop", "iptc"),
    (0xEE, b"Adobe", "APP14:Adobe", ""),
]


#: the only EXIF a clean copy may hold: IFD0 with nothing but the Orientation tag
EXIF_ORIENTATION = "APP1:Exif-orientation"
#: an ICC profile that icc.sanitise has already cleaned (see icc.py for why it is kept)
ICC_CLEAN = "APP2:ICC-clean"
ICC_SIGNATURE = b"ICC_PROFILE\0"


@lru_cache(maxsize=16)
def orientation_exif(orientation: int) -> bytes:
    """APP1 payload (``Exif\\0\\0`` + TIFF) holding only the Orientation tag."""
    return piexif.dump({"0th": {piexif.ImageIFD.Orientation: orientation}})


def is_orientation_exif(payload: bytes) -> bool:
    return any(payload == orientation_exif(turn) for turn in range(1, 9))


def icc_from_segments(payloads: list[bytes]) -> bytes:
    """The profile split over APP2 ICC_PROFILE segments, in their sequence order."""
    return b"".join(p[14:] for p in sorted(payloads, key=lambda p: p[12:13]))


def mpf_images(payload: bytes) -> int:
    """Number of images an APP2 MPF index lists (the primary included), 0 if unreadable."""
    tiff = payload[4:]
    try:
        order = "<" if tiff[:2] == b"II" else ">"
        (offset,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
        for i in range(count):
            tag, _, _, value = struct.unpack(order + "HHII", tiff[offset + 2 + 12 * i : offset + 14 + 12 * i])
            if tag == 0xB001:  # NumberOfImages
                return value
    except struct.error:
        return 0
    return 0


def segment_name(marker: int, payload: bytes) -> tuple[str, str]:
    if marker in _SOF:
        return f"SOF{marker - 0xC0}", ""
    if marker in _NAMES:
        return _NAMES[marker], "comment" if marker == 0xFE else ""
    if 0xE0 <= marker <= 0xEF:
        for app, signature, name, kind in _APP_SIGNATURES:
            if marker == app and payload.startswith(signature):
                if name == "APP0:JFIF" and len(payload) > 14:  # 14 bytes: JFIF with no thumbnail
                    return "APP0:JFIF+thumbnail", "thumbnail"
                if name == "APP1:Exif" and is_orientation_exif(payload):
                    return EXIF_ORIENTATION, ""
                return name, kind
        return f"APP{marker - 0xE0}", "unknown"
    return f"marker-{marker:02X}", "unknown"


def walk(data: bytes):
    """Yield (marker, start, end, payload) for each segment up to EOI, then the trailer.

    ``start``/``end`` bound the whole segment including its marker; SOS includes the
    entropy-coded data that follows it. The last item is (None, start, len, b"") for the
    bytes after EOI (empty when there are none).
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG: no start-of-image marker")
    pos = 2
    yield SOI, 0, 2, b""
    size = len(data)
    while True:
        if pos + 2 > size:
            raise ValueError("JPEG ends before its end-of-image marker")
        if data[pos] != 0xFF:
            # stray bytes between segments (often a segment whose length is off by a few):
            # decoders skip to the next marker, and so does this walk, reporting them
            following = data.find(b"\xff", pos)
            if following < 0:
                raise ValueError(f"JPEG marker expected at byte {pos}")
            yield JUNK, pos, following, b""
            pos = following
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            yield marker, pos, pos + 2, b""
            pos += 2
            if marker == EOI:
                yield None, pos, size, b""
                return
            continue
        if pos + 4 > size:
            raise ValueError("JPEG segment header cut short")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > size:
            raise ValueError(f"JPEG segment at byte {pos} runs past the end of the file")
        payload = data[pos + 4 : end]
        if marker == SOS:
            end = _entropy_end(data, end)
        yield marker, pos, end, payload
        pos = end


#: a marker that ends entropy-coded data: FF and then C0-FE but for the restarts D0-D7. Not
#: FF 00 (a stuffed FF), nor a corrupted pair such as FF 9F (damaged image data that decoders
#: tolerate, and that copying as it is keeps as it was); in FF FF D9 the marker is the second FF
_DATA_END = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")


def _entropy_end(data: bytes, pos: int) -> int:
    """Index of the first marker after entropy-coded data (skipping stuffing and restarts).

    A regular expression: a noisy 12 MP photo holds hundreds of thousands of stuffed FF bytes,
    and stepping through them one by one in Python cost 85 ms per walk."""
    found = _DATA_END.search(data, pos)
    if found is None:
        raise ValueError("JPEG image data is cut short")
    return found.start()


class JpegHandler(FormatHandler):
    name = "jpeg"
    pillow_format = "JPEG"
    extensions = (".jpg", ".jpeg", ".jpe", ".jfif", ".mpo")
    keep = frozenset(
        {"SOI", "EOI", "DQT", "DHT", "DAC", "DRI", "SOS", "APP0:JFIF", "APP14:Adobe",
         EXIF_ORIENTATION, ICC_CLEAN}
        | {f"SOF{m - 0xC0}" for m in _SOF}
        | {f"RST{n}" for n in range(8)}
    )

    def accept(self, head: bytes) -> bool:
        return head.startswith(b"\xff\xd8\xff")

    def containers(self, data: bytes) -> list[Container]:
        found, icc_chunks = [], []
        for marker, start, end, payload in walk(data):
            if marker is None:
                if end > start:
                    # an MP4 right after the image is a Motion Photo video (Google, Samsung)
                    video = data[start + 4 : start + 8] == b"ftyp" or b"MotionPhoto_Data" in data[start : start + 64]
                    found.append(Container("trailer", "video" if video else "trailer", end - start))
            elif marker == JUNK:
                found.append(Container("stray-bytes", "unknown", end - start))
            elif marker == SOI:
                found.append(Container("SOI"))
            elif marker == EOI:
                found.append(Container("EOI"))
            elif 0xD0 <= marker <= 0xD7:
                found.append(Container(f"RST{marker - 0xD0}"))
            else:
                name, kind = segment_name(marker, payload)
                if name == "APP2:ICC":
                    icc_chunks.append(payload)
                count = mpf_images(payload) - 1 if name == "APP2:MPF" else 0
                found.append(Container(name, kind, end - start, max(count, 0)))
        if icc_chunks and icc.is_clean(icc_from_segments(icc_chunks)):
            found = [Container(ICC_CLEAN, "", c.size) if c.name == "APP2:ICC" else c for c in found]
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("L", "RGB", "CMYK") else "RGB"

    def save_options(self, image, hints: EncodeHints) -> dict:
        tables = hints.jpeg_qtables
        if tables and hints.jpeg_turned:
            tables = [[max(1, value // 2) for value in table] for table in tables]
        if tables and image.mode == "RGB" and len(tables) >= 2:
            # Pillow knows 4:4:4, 4:2:2 and 4:2:0 (0-2); any other sampling gets 4:4:4, losing nothing
            subsampling = hints.jpeg_subsampling if hints.jpeg_subsampling in (0, 1, 2) else 0
            return {"qtables": tables[:3], "subsampling": subsampling}
        if tables and image.mode == "L":
            return {"qtables": tables[:1]}
        return {"quality": 92}
