"""What a clean video copy may hold, box by box; everything else is refused.

A copy is one ``moov`` with one video track and at most one audio track (or one audio track
alone), their sample tables, and one ``mdat`` holding exactly the samples those tables point
to: no user data, metadata, keys, XMP or ``uuid`` boxes, no other tracks, no dates, no
language, no names but the muxer's two generic handler names, nothing after the last box.
"""

from __future__ import annotations

from ...parts.isobmff import Box, children, full_box, uint
from .movie import Movie, Track

TOP = {"ftyp", "free", "mdat", "moov"}
#: box -> the children it may have (a box not listed here may have none we look into)
CHILDREN = {
    "moov": {"mvhd", "trak"},
    "trak": {"tkhd", "edts", "mdia"},
    "edts": {"elst"},
    "mdia": {"mdhd", "hdlr", "minf"},
    "minf": {"vmhd", "smhd", "dinf", "stbl"},
    "dinf": {"dref"},
    "stbl": {"stsd", "stts", "ctts", "stss", "stsc", "stsz", "stco", "co64", "sdtp", "sgpd", "sbgp", "cslg"},
}
#: sample entries a copy may use, and the codec configuration boxes inside them
SAMPLE_ENTRIES = {"avc1", "hvc1", "hev1", "av01", "mp4a"}
ENTRY_CHILDREN = {"avcC", "hvcC", "av1C", "esds", "colr", "pasp", "btrt", "clli", "mdcv", "fiel", "chnl"}
HANDLER_NAMES = {"vide": "VideoHandler", "soun": "SoundHandler"}
#: 'und' (undetermined) packed as three 5-bit letters, as mdhd stores a language
UNDETERMINED = 0x55C4
#: bytes before the child boxes of a visual and of an audio (version 0) sample entry
_VISUAL_ENTRY, _AUDIO_ENTRY = 78, 28
#: the compressor name field of a visual sample entry, from the end of its header
_COMPRESSOR_NAME = slice(42, 74)


def leftovers(movie: Movie) -> list[str]:
    """Everything in ``movie`` that is not on the keep list, in plain words ([] when clean)."""
    found = [f"a top-level '{box.type}' box" for box in movie.top if box.type not in TOP]
    found += [f"a top-level '{box.type}' box with content" for box in movie.top
              if box.type == "free" and box.end > box.body]
    data = movie.moov_data
    found += _unexpected(data, movie.moov)
    if any(movie.times):
        found.append("a date in the movie header")
    kinds = sorted(track.handler for track in movie.tracks)
    if kinds not in (["soun", "vide"], ["vide"], ["soun"]):
        found.append(f"tracks {', '.join(kinds) or 'none'} (one video and at most one audio track expected)")
    for track in movie.tracks:
        found += _track_leftovers(data, track)
    return found


def _unexpected(data: bytes, parent: Box) -> list[str]:
    found = []
    for box in children(data, parent.body, parent.end):
        if box.type not in CHILDREN[parent.type]:
            found.append(f"a '{box.type}' box in '{parent.type}'")
        elif box.type in CHILDREN:
            found += _unexpected(data, box)
    return found


def _track_leftovers(data: bytes, track: Track) -> list[str]:
    found = []
    if any(creation or modification for _, creation, modification in track.times):
        found.append(f"a date in the {track.handler} track")
    if track.language not in (0, UNDETERMINED):
        found.append(f"a language in the {track.handler} track")
    if track.handler_name.rstrip("\0") != HANDLER_NAMES.get(track.handler, ""):
        found.append(f"the handler name {track.handler_name.rstrip(chr(0))!r}")
    if not track.enabled:
        found.append(f"a disabled {track.handler} track")
    for box in _walk(data, track.box):
        if box.type == "dref":
            found += _references(data, box)
        elif box.type == "stsd":
            found += _sample_entries(data, box, track.handler)
    return found


def _walk(data: bytes, parent: Box):
    for box in children(data, parent.body, parent.end):
        yield box
        if box.type in CHILDREN:
            yield from _walk(data, box)


def _references(data: bytes, dref: Box) -> list[str]:
    """Only one data reference, to this file itself (flag 1, no URL)."""
    entries = list(children(data, dref.body + 8, dref.end))
    if len(entries) != 1 or entries[0].type != "url " or full_box(data, entries[0])[1] != 1 \
            or entries[0].end != entries[0].body + 4:
        return ["a data reference to another file"]
    return []


def _sample_entries(data: bytes, stsd: Box, handler: str) -> list[str]:
    count = uint(data, stsd.body + 4, 4)
    entries = list(children(data, stsd.body + 8, stsd.end))
    if count != 1 or len(entries) != 1:
        return [f"{len(entries)} sample descriptions in the {handler} track"]
    entry = entries[0]
    if entry.type not in SAMPLE_ENTRIES:
        return [f"a '{entry.type}' sample description"]
    visual = entry.type != "mp4a"
    if visual and any(data[entry.body + _COMPRESSOR_NAME.start : entry.body + _COMPRESSOR_NAME.stop]):
        return ["a compressor name in the video track"]
    if not visual and uint(data, entry.body + 8, 2) != 0:
        return ["an audio sample description other than version 0"]
    skip = _VISUAL_ENTRY if visual else _AUDIO_ENTRY
    return [f"a '{box.type}' box in the '{entry.type}' sample description"
            for box in children(data, entry.body + skip, entry.end) if box.type not in ENTRY_CHILDREN]


def unreferenced_bytes(movie: Movie) -> int:
    """Bytes of ``mdat`` that no sample refers to (and samples outside ``mdat``, counted the
    same way): a clean copy's media data is its samples and nothing else."""
    mdats = [box for box in movie.top if box.type == "mdat"]
    if len(mdats) != 1:
        raise ValueError(f"{len(mdats)} media data boxes (mdat)")
    mdat = mdats[0]
    ranges = sorted(r for track in movie.tracks for r in _chunk_ranges(movie.moov_data, track))
    covered, position = 0, mdat.body
    for start, end in ranges:
        if start < position or end > mdat.end:
            raise ValueError("samples overlap or lie outside the media data")
        covered += end - start
        position = end
    return (mdat.end - mdat.body) - covered


def _chunk_ranges(data: bytes, track: Track) -> list[tuple[int, int]]:
    """(start, end) file offsets of each chunk of samples of a track."""
    stbl = None
    for box in _walk(data, track.box):
        if box.type == "stbl":
            stbl = box
    if stbl is None:
        raise ValueError(f"the {track.handler} track has no sample table")
    tables = {box.type: box for box in children(data, stbl.body, stbl.end)}
    stsz, stsc = tables.get("stsz"), tables.get("stsc")
    offsets_box = tables.get("stco") or tables.get("co64")
    if stsz is None or stsc is None or offsets_box is None:
        raise ValueError(f"the {track.handler} track's sample table is incomplete")
    width = 4 if offsets_box.type == "stco" else 8
    offsets = [uint(data, offsets_box.body + 8 + width * i, width)
               for i in range(uint(data, offsets_box.body + 4, 4))]
    fixed, count = uint(data, stsz.body + 4, 4), uint(data, stsz.body + 8, 4)
    sizes = [fixed] * count if fixed else [uint(data, stsz.body + 12 + 4 * i, 4) for i in range(count)]
    runs = [(uint(data, stsc.body + 8 + 12 * i, 4), uint(data, stsc.body + 12 + 12 * i, 4))
            for i in range(uint(data, stsc.body + 4, 4))]
    ranges, sample = [], 0
    for index, (first, per_chunk) in enumerate(runs):
        last = runs[index + 1][0] - 1 if index + 1 < len(runs) else len(offsets)
        for chunk in range(first, last + 1):
            if chunk - 1 >= len(offsets) or sample + per_chunk > count:
                raise ValueError(f"the {track.handler} track's sample table is inconsistent")
            length = sum(sizes[sample : sample + per_chunk])
            ranges.append((offsets[chunk - 1], offsets[chunk - 1] + length))
            sample += per_chunk
    if sample != count:
        raise ValueError(f"the {track.handler} track's chunks hold {sample} of its {count} samples")
    return ranges
