"""Videos (MP4, MOV, M4V, 3GP): recognised here by their first bytes; cleaned by
``photoguard.media.video``, which has its own box walker, keep list and verification.

A video is recognised by the major brand of its ``ftyp`` box, never by the compatible brands
a file lists after it: HEIF photos, Canon CR3 raw files and M4A music are ISO boxes too, and
some list ``isom`` among their compatible brands. QuickTime files older than ``ftyp`` start
with a movie, media data or padding box.
"""

from __future__ import annotations

from ..isobmff import children
from .base import Container, FormatHandler

#: major brands of video files (MP4 and its versions, QuickTime, Apple M4V, 3GPP/3GPP2 and
#: the camera makers' own); audio-only brands (M4A, M4B, M4P) are not videos
BRANDS = frozenset(
    {b"isom", b"mp41", b"mp42", b"mp71", b"avc1", b"qt  ", b"M4V ", b"M4VH", b"M4VP", b"mmp4", b"MSNV",
     b"XAVC", b"dash", b"f4v ", b"CAEP", b"caqv", b"niko", b"MQT ", b"FACE", b"KDDI"}
    | {b"iso%d" % n for n in range(2, 10)}
    | {b"3g%s%d" % (kind, n) for kind in (b"p", b"e", b"g", b"s", b"r") for n in range(4, 10)}
    | {b"3g2" + letter for letter in (b"a", b"b", b"c")}
)
#: first boxes of QuickTime movies written without an ftyp box
_QUICKTIME_FIRST = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


class VideoHandler(FormatHandler):
    name = "video"
    pillow_format = ""
    #: copies are MP4 files: an .m4v keeps its name, every other video gets .mp4
    extensions = (".mp4", ".m4v")
    suffixes = (".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2")
    keep = frozenset()  # see photoguard/media/video/keep.py

    def accept(self, head: bytes) -> bool:
        if head[4:8] == b"ftyp":
            return head[8:12] in BRANDS
        return head[4:8] in _QUICKTIME_FIRST and int.from_bytes(head[:4], "big") >= 8

    def containers(self, data: bytes) -> list[Container]:
        return [Container(box.type, "", box.size) for box in children(data, 0, len(data))]
