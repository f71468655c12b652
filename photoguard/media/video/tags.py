"""What a video gives away, read from its boxes: place, time, device, software, hidden tracks.

Phones and cameras write these in several places: QuickTime user data (``udta``: ``©xyz``,
``©day``, ``©mak``...), 3GPP boxes (``loci``), QuickTime keys (``moov/meta/keys`` +
``ilst``: Apple's ``com.apple.quicktime.location.ISO6709``, make, model, creation date and
the identifier that pairs a Live Photo with its still), the movie and track headers' times,
XMP in ``uuid`` boxes, Samsung boxes (``smta``, ``sefd``), and whole tracks of timed metadata
(iPhone face rectangles, Pixel motion data, GoPro GPS). The copy keeps none of it; this is
only what ``scan`` and ``--json`` say was there.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ...parts.isobmff import Box, children, uint
from ...parts.metadata import Metadata, ordered_kinds
from .movie import Movie, Track

#: seconds between the QuickTime epoch (1904) and 1970
_EPOCH = datetime(1904, 1, 1)
_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
#: top-level boxes that are structure (a free box's content is judged apart)
_STRUCTURE = {"ftyp", "moov", "mdat", "free", "skip", "wide", "moof", "mfra", "sidx", "ssix", "styp", "pdin"}
_SAMSUNG = {"smta", "sefd", "smrd", "saut", "srfr", "svss", "sefh", "axte"}
_GPS_KEY = re.compile(r"\xa9xyz|loci|location|iso6709|gps", re.I)
_DATE_KEY = re.compile(r"\xa9day|date|time", re.I)
_3GPP_TEXT = {"titl", "dscp", "cprt", "perf", "auth", "gnre", "albm", "kywd", "clsf"}
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")


def read_tags(movie: Movie, main_video: Track | None, main_audio: Track | None) -> Metadata:
    found = Metadata()
    kinds: set[str] = set()
    items: list[tuple[str, bytes]] = []  # (name, value) from udta and keys
    for box in movie.top:
        if box.type == "uuid":
            kinds.add("xmp" if box.usertype == _XMP_UUID else "unknown")
        elif box.type in _SAMSUNG:
            kinds.add("maker-notes")
        elif box.type == "meta":
            kinds.add("metadata")
        elif box.type not in _STRUCTURE:
            kinds.add("unknown")
    if movie.top and movie.top[-1].end < movie.length:
        kinds.add("trailer")
    data = movie.moov_data
    for box in children(data, movie.moov.body, movie.moov.end):
        _collect(data, box, items, kinds)
        if box.type == "trak":
            for inner in children(data, box.body, box.end):
                _collect(data, inner, items, kinds)
    others = [t for t in movie.tracks if t is not main_video and t is not main_audio]
    if others:
        kinds.add("tracks")
        found.counts["tracks"] = len(others)
    stamps = [s for s in (movie.times[0], *(t.times[0][1] for t in movie.tracks if t.times)) if s]
    for name, value in items:
        _read_item(name, value, found, kinds)
    if stamps and not found.taken:
        found.taken = _quicktime_date(stamps[0])
    if stamps or found.taken:
        kinds.add("date")
    found.kinds = ordered_kinds(kinds)
    return found


def _collect(data: bytes, box: Box, items: list, kinds: set) -> None:
    """Items of a udta or meta box into ``items``; other leaking boxes into ``kinds``."""
    if box.type == "udta":
        for item in _lenient_children(data, box):
            if item.type == "meta":
                _meta_items(data, item, items)
            elif item.type == "XMP_":
                kinds.add("xmp")
            elif item.type in _SAMSUNG:
                kinds.add("maker-notes")
            elif item.type.startswith("\xa9") and item.end - item.body >= 4:
                # QuickTime text: a 2-byte length and a 2-byte language, then the text
                length = uint(data, item.body, 2)
                items.append((item.type, data[item.body + 4 : min(item.end, item.body + 4 + length)]))
            else:
                items.append((item.type, data[item.body : item.end]))
    elif box.type == "meta":
        _meta_items(data, box, items)
    elif box.type == "uuid":
        kinds.add("xmp" if box.usertype == _XMP_UUID else "unknown")


def _lenient_children(data: bytes, box: Box) -> list[Box]:
    """Children of a user data box; old QuickTime files end the list with four zero bytes."""
    end = box.end
    if end - box.body >= 4 and data[end - 4 : end] == b"\0\0\0\0":
        try:
            return list(children(data, box.body, end - 4))
        except ValueError:
            pass
    try:
        return list(children(data, box.body, end))
    except ValueError:
        return []


def _meta_items(data: bytes, meta: Box, items: list) -> None:
    """(name, value) of each item of a meta box: QuickTime keys or iTunes-style names."""
    # QuickTime writes meta as a plain box, ISO and iTunes as a full box (4 more bytes)
    start = meta.body if data[meta.body + 4 : meta.body + 8] == b"hdlr" else meta.body + 4
    try:
        _meta_entries(data, start, meta.end, items)
    except ValueError:  # damaged: it says there is metadata, which the copy drops anyway
        items.append(("meta", b""))


def _meta_entries(data: bytes, start: int, end: int, items: list) -> None:
    boxes = {b.type: b for b in children(data, start, end)}
    keys = []
    if "keys" in boxes:
        box = boxes["keys"]
        for entry in children(data, box.body + 8, box.end):
            keys.append(data[entry.body : entry.end].decode("utf-8", "replace"))
    if "ilst" not in boxes:
        items.extend((key, b"") for key in keys)
        return
    for item in children(data, boxes["ilst"].body, boxes["ilst"].end):
        index = int.from_bytes(item.type.encode("latin-1"), "big")
        name = keys[index - 1] if keys and 0 < index <= len(keys) else item.type
        value = b""
        for inner in children(data, item.body, item.end):
            if inner.type == "data":
                value = data[inner.body + 8 : inner.end]
        items.append((name, value))


def _read_item(name: str, value: bytes, found: Metadata, kinds: set) -> None:
    text = _text(name, value)
    name = name.rsplit(".", 1)[-1]  # 'com.apple.quicktime.make' -> 'make'
    lowered = name.lower()
    if _GPS_KEY.search(name):
        kinds.add("gps")
        found.gps = found.gps or (_loci(value) if name == "loci" else _iso6709(text))
    elif _DATE_KEY.search(name):
        kinds.add("date")
        found.taken = found.taken or _iso_date(text)
    elif lowered.endswith(("make", "model")) or name in ("\xa9mak", "\xa9mod"):
        kinds.add("camera")
        found.camera = " ".join(p for p in (found.camera, text) if p) or None
    elif lowered.endswith("software") or name in ("\xa9swr", "\xa9too", "\xa9enc"):
        kinds.add("software")
        found.software = found.software or text
    elif name in ("\xa9aut", "auth", "\xa9ART", "perf", "\xa9cpy", "cprt") or "author" in lowered:
        kinds.add("names")
        if text:
            found.names.append(text)
    elif name in ("covr", "thmb") or "thumb" in lowered:
        kinds.add("thumbnail")
    else:
        kinds.add("metadata")


def _text(name: str, value: bytes) -> str:
    """A readable value (3GPP text boxes start with a full box header and a language)."""
    if name in _3GPP_TEXT:
        value = value[6:]
    return value.decode("utf-8", "replace").strip("\0 ").strip()


def _iso6709(text: str) -> tuple[float, float] | None:
    match = _ISO6709.match(text)
    if not match:
        return None
    try:
        return round(float(match.group(1)), 6), round(float(match.group(2)), 6)
    except ValueError:
        return None


def _loci(value: bytes) -> tuple[float, float] | None:
    """3GPP location: full box header, language, a name ending in a zero, role, then
    longitude, latitude and altitude in 16.16 fixed point."""
    end = value.find(b"\0", 6)
    if end < 0 or end + 10 > len(value):
        return None
    longitude = int.from_bytes(value[end + 2 : end + 6], "big", signed=True) / 65536
    latitude = int.from_bytes(value[end + 6 : end + 10], "big", signed=True) / 65536
    return round(latitude, 6), round(longitude, 6)


def _iso_date(text: str) -> str | None:
    """'2019-07-24T11:25:40+0300' -> '2019:07:24 11:25:40' (the form EXIF uses)."""
    match = re.match(r"(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2}):?(\d{2}):?(\d{2})", text)
    return f"{match[1]}:{match[2]}:{match[3]} {match[4]}:{match[5]}:{match[6]}" if match else (text or None)


def _quicktime_date(seconds: int) -> str | None:
    try:
        return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y:%m:%d %H:%M:%S")
    except OverflowError:
        return None
