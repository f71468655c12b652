"""TIFF: the tags of each image file directory (IFD)."""

from __future__ import annotations

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


class TiffHandler(FormatHandler):
    name = "tiff"
    pillow_format = "TIFF"
    extensions = (".tif", ".tiff")
    keep = frozenset({"header", *_PIXEL_TAGS.values()})

    def accept(self, head: bytes) -> bool:
        return head[:4] in (b"II*\0", b"MM\0*")

    def containers(self, data: bytes) -> list[Container]:
        if not self.accept(data[:4]):
            raise ValueError("not a TIFF: bad header (BigTIFF is not supported)")
        order = "<" if data[:2] == b"II" else ">"
        (offset,) = struct.unpack(order + "I", data[4:8])
        found, seen = [Container("header")], set()
        while offset:
            if offset in seen or offset + 2 > len(data):
                raise ValueError("TIFF directory offset is invalid or loops")
            seen.add(offset)
            (count,) = struct.unpack(order + "H", data[offset : offset + 2])
            end = offset + 2 + 12 * count
            if end + 4 > len(data):
                raise ValueError("TIFF directory runs past the end of the file")
            if len(seen) > 1:
                found.append(Container("next-image", "thumbnail"))
            for i in range(count):
                (tag,) = struct.unpack(order + "H", data[offset + 2 + 12 * i : offset + 4 + 12 * i])
                name = _PIXEL_TAGS.get(tag, f"tag-{tag}")
                found.append(Container(name, "" if tag in _PIXEL_TAGS else _KINDS.get(tag, "unknown")))
            (offset,) = struct.unpack(order + "I", data[end : end + 4])
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("1", "L", "LA", "RGB", "RGBA", "CMYK", "I;16") else "RGB"

    def save_options(self, image, hints) -> dict:
        return {"compression": "tiff_adobe_deflate"}
