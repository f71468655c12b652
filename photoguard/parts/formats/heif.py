"""HEIC/HEIF and AVIF: ISO base media boxes and the items listed in their ``meta`` box."""

from __future__ import annotations

import struct

from ..isobmff import children
from .base import Container, FormatHandler

_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
           b"mif1", b"msf1", b"avif", b"avis", b"mif2"}
#: item types that hold the picture itself
_PICTURE_ITEMS = {"hvc1", "av01", "grid", "iden", "iovl"}
#: references from one item to another and what they make of the referring item
_REFERENCE_KINDS = {"thmb": "thumbnail", "auxl": "auxiliary", "cdsc": "metadata"}


def _items(data: bytes, start: int, end: int) -> tuple[dict[int, str], dict[int, str], int]:
    """Item types, kinds given by references, and the primary item of a ``meta`` payload."""
    types, kinds, primary = {}, {}, 0
    for box in children(data, start + 4, end):  # +4: meta is a full box
        kind, body, box_end = box.type, box.body, box.end
        version = data[body]
        if kind == "pitm":
            primary = struct.unpack(">H" if version == 0 else ">I", data[body + 4 : body + (6 if version == 0 else 8)])[0]
        elif kind == "iinf":
            skip = 2 if version == 0 else 4
            for entry in children(data, body + 4 + skip, box_end):
                entry_body = entry.body
                if entry.type != "infe" or data[entry_body] < 2:
                    continue
                id_size = 2 if data[entry_body] == 2 else 4
                item_id = int.from_bytes(data[entry_body + 4 : entry_body + 4 + id_size], "big")
                type_at = entry_body + 4 + id_size + 2
                types[item_id] = data[type_at : type_at + 4].decode("latin-1")
        elif kind == "iref":
            id_size = 2 if version == 0 else 4
            for reference in children(data, body + 4, box_end):
                source = int.from_bytes(data[reference.body : reference.body + id_size], "big")
                if reference.type in _REFERENCE_KINDS:
                    kinds[source] = _REFERENCE_KINDS[reference.type]
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
        for box in children(data, 0, len(data)):
            kind = box.type
            if kind != "meta":
                payload = box.end - box.body + len(box.usertype)
                found.append(Container(kind, "" if kind in self.keep else
                                       "video" if kind in ("mpvd", "moov") else "unknown", payload))
                continue
            found.append(Container("meta"))
            # entity groups say what several pictures are to each other: "brst" a burst, "ster" a stereo pair
            for child in children(data, box.body + 4, box.end):
                if child.type == "grpl":
                    found += [Container(f"group:{group.type}") for group in children(data, child.body, child.end)]
            types, kinds, primary = _items(data, box.body, box.end)
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
