"""HEIC/HEIF and AVIF: ISO base media boxes and the items listed in their ``meta`` box."""

from __future__ import annotations

import struct

from .base import Container, FormatHandler

_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
           b"mif1", b"msf1", b"avif", b"avis", b"mif2"}
#: item types that hold the picture itself
_PICTURE_ITEMS = {"hvc1", "av01", "grid", "iden", "iovl"}
#: references from one item to another and what they make of the referring item
_REFERENCE_KINDS = {"thmb": "thumbnail", "auxl": "auxiliary", "cdsc": "metadata"}
_CONTAINER_BOXES = {"meta", "iprp", "ipco", "moov", "trak", "mdia", "minf", "stbl", "dinf"}


def boxes(data: bytes, start: int, end: int):
    """Yield (type, payload_start, box_end) for the boxes between start and end."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise ValueError("HEIF box header cut short")
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"HEIF box at byte {pos} runs past its container")
        yield kind.decode("latin-1"), pos + header, pos + size
        pos += size
    if pos != end:
        raise ValueError("HEIF box list ends with stray bytes")


def _items(data: bytes, start: int, end: int) -> tuple[dict[int, str], dict[int, str], int]:
    """Item types, kinds given by references, and the primary item of a ``meta`` payload."""
    types, kinds, primary = {}, {}, 0
    for kind, body, box_end in boxes(data, start + 4, end):  # +4: meta is a full box
        version = data[body]
        if kind == "pitm":
            primary = struct.unpack(">H" if version == 0 else ">I", data[body + 4 : body + (6 if version == 0 else 8)])[0]
        elif kind == "iinf":
            skip = 2 if version == 0 else 4
            for entry, entry_body, _ in boxes(data, body + 4 + skip, box_end):
                if entry != "infe" or data[entry_body] < 2:
                    continue
                id_size = 2 if data[entry_body] == 2 else 4
                item_id = int.from_bytes(data[entry_body + 4 : entry_body + 4 + id_size], "big")
                type_at = entry_body + 4 + id_size + 2
                types[item_id] = data[type_at : type_at + 4].decode("latin-1")
        elif kind == "iref":
            id_size = 2 if version == 0 else 4
            for reference, ref_body, _ in boxes(data, body + 4, box_end):
                source = int.from_bytes(data[ref_body : ref_body + id_size], "big")
                if reference in _REFERENCE_KINDS:
                    kinds[source] = _REFERENCE_KINDS[reference]
    return types, kinds, primary


class HeifHandler(FormatHandler):
    name = "heif"
    pillow_format = "HEIF"
    extensions = (".heic", ".heif", ".hif", ".avif")
    keep = frozenset({"ftyp", "meta", "mdat", "hdlr", "pitm", "iloc", "iinf", "iprp", "ipco",
                      "ipma", "idat", "iref", "dinf", "item:primary", "item:grid-tile", "free"})

    def accept(self, head: bytes) -> bool:
        return head[4:8] == b"ftyp" and (head[8:12] in _BRANDS or any(
            head[i : i + 4] in _BRANDS for i in range(16, min(len(head), 32), 4)))

    def containers(self, data: bytes) -> list[Container]:
        found = []
        for kind, body, end in boxes(data, 0, len(data)):
            if kind != "meta":
                found.append(Container(kind, "" if kind in self.keep else
                                       "video" if kind in ("mpvd", "moov") else "unknown", end - body))
                continue
            found.append(Container("meta"))
            # entity groups say what several pictures are to each other: "brst" a burst, "ster" a stereo pair
            for child, child_body, child_end in boxes(data, body + 4, end):
                if child == "grpl":
                    found += [Container(f"group:{group}") for group, _, _ in boxes(data, child_body, child_end)]
            types, kinds, primary = _items(data, body, end)
            for item_id, item_type in sorted(types.items()):
                if item_id == primary:
                    found.append(Container("item:primary"))
                elif item_type == "Exif":
                    found.append(Container("item:Exif", "exif"))
                elif item_type == "mime":
                    found.append(Container("item:mime", "xmp"))
                elif item_type in _PICTURE_ITEMS and item_id not in kinds:
                    found.append(Container("item:grid-tile"))
                else:
                    found.append(Container(f"item:{item_type}", kinds.get(item_id, "unknown")))
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("RGB", "RGBA") else "RGB"

    def save_options(self, image, hints) -> dict:
        return {"quality": 90}
