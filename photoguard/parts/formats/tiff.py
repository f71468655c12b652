"""TIFF: the tags of each image file directory (IFD); one IFD per page."""

from __future__ import annotations

import io
import struct

from .base import Container, FormatHandler

# tags that only describe how to decode the pixels
_PIXEL_TAGS = {
    254: "NewSubfileType", 256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample",
    259: "Compression", 262: "PhotometricInterpretation", 266: "FillOrder", 273: "StripOffsets",
    277: "SamplesPerPixel", 278: "RowsPerStrip", 279: "StripByteCounts", 282: "XResolution",
    283: "YResolution", 284: "PlanarConfiguration", 296: "ResolutionUnit", 317: "Predictor",
    320: "ColorMap", 322: "TileWidth", 323: "TileLength", 324: "TileOffsets",
    325: "TileByteCounts", 338: "ExtraSamples", 339: "SampleFormat", 530: "YCbCrSubSampling",
    532: "ReferenceBlackWhite",
}
_KINDS = {
    34665: "exif", 34853: "gps", 700: "xmp", 33723: "iptc", 34377: "iptc", 34675: "icc",
    37510: "comment", 270: "comment", 271: "camera", 272: "camera", 305: "software",
    306: "date", 315: "names", 33432: "names", 330: "thumbnail", 37724: "unknown",
}


NEW_SUBFILE_TYPE = 254
#: NewSubfileType bit: the directory holds a reduced-resolution copy of another (a thumbnail)
_REDUCED = 1


def is_reduced(subfile_type: int) -> bool:
    return bool(subfile_type & _REDUCED)


class TiffHandler(FormatHandler):
    name = "tiff"
    pillow_format = "TIFF"
    extensions = (".tif", ".tiff")
    keep = frozenset({"header", "page", *_PIXEL_TAGS.values()})
    holds = "pages"

    def accept(self, head: bytes) -> bool:
        return head[:4] in (b"II*\0", b"MM\0*")

    def containers(self, data: bytes) -> list[Container]:
        if not self.accept(data[:4]):
            raise ValueError("not a TIFF: bad header (BigTIFF is not supported)")
        order = "<" if data[:2] == b"II" else ">"
        (offset,) = struct.unpack(order + "I", data[4:8])
        found, seen = [Container("header")], set()
        while offset:
            subfile_type = 0
            if offset in seen or offset + 2 > len(data):
                raise ValueError("TIFF directory offset is invalid or loops")
            seen.add(offset)
            (count,) = struct.unpack(order + "H", data[offset : offset + 2])
            end = offset + 2 + 12 * count
            if end + 4 > len(data):
                raise ValueError("TIFF directory runs past the end of the file")
            tags = []
            for i in range(count):
                tag, kind, _, value = struct.unpack(order + "HHI4s", data[offset + 2 + 12 * i : offset + 14 + 12 * i])
                name = _PIXEL_TAGS.get(tag, f"tag-{tag}")
                tags.append(Container(name, "" if tag in _PIXEL_TAGS else _KINDS.get(tag, "unknown")))
                if tag == NEW_SUBFILE_TYPE:
                    size = "H" if kind == 3 else "I"  # SHORT or LONG, stored in the entry itself
                    (subfile_type,) = struct.unpack(order + size, value[: struct.calcsize(size)])
            if len(seen) > 1:  # a later directory: another page, or a smaller copy of one
                found.append(Container("reduced-image", "thumbnail") if is_reduced(subfile_type) else Container("page"))
            found += tags
            (offset,) = struct.unpack(order + "I", data[end : end + 4])
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("1", "L", "LA", "RGB", "RGBA", "CMYK", "I;16") else "RGB"

    def save_options(self, image, hints) -> dict:
        return {"compression": "tiff_adobe_deflate"}

    def save(self, frames, out, hints, timing) -> None:
        # Pillow writes each page after the first by reading back what it wrote: a write-only
        # file cannot take that, so the pages are put together in memory
        buffer = io.BytesIO()
        super().save(frames, buffer, hints, timing)
        out.write(buffer.getvalue())

    def frame_options(self, timing) -> dict:
        return {}
