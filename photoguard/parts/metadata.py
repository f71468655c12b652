"""What a photo gives away: the metadata found in a file, in fields and in plain words."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime

from PIL import ExifTags, Image

from . import icc
from .formats import Container
from .formats.jpeg import is_orientation_exif

_GPS_IFD, _EXIF_IFD, _IFD1 = ExifTags.IFD.GPSInfo, ExifTags.IFD.Exif, ExifTags.IFD.IFD1
_T = ExifTags.Base
_SERIAL_TAGS = {_T.BodySerialNumber: "body serial", _T.LensSerialNumber: "lens serial"}
_NAME_TAGS = (_T.Artist, _T.Copyright, _T.CameraOwnerName)
_DATE_TAGS = (_T.DateTimeOriginal, _T.DateTimeDigitized)
#: the order in which kinds of metadata are listed, with their plain-word names
KIND_WORDS = {
    "gps": "GPS position", "exif": "EXIF", "maker-notes": "maker notes",
    "thumbnail": "embedded thumbnail", "xmp": "XMP", "iptc": "IPTC/Photoshop", "comment": "comment",
    "text": "text chunks", "icc": "colour profile", "mpf": "extra images (MPF)",
    "auxiliary": "auxiliary images", "video": "Motion Photo video", "trailer": "bytes after the image end",
    "date": "time stamp", "camera": "camera make/model", "names": "names", "software": "software",
    "metadata": "metadata item", "provenance": "provenance data", "unknown": "unknown blocks",
    "tracks": "other tracks (timed metadata, subtitles, a second video)", "sound": "sound (voices)",
}


@dataclass
class Metadata:
    """The identifying metadata of one file."""

    kinds: list[str] = field(default_factory=list)
    gps: tuple[float, float] | None = None
    taken: str | None = None
    camera: str | None = None
    serials: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    software: str | None = None
    trailer_bytes: int = 0
    #: plain-word label of each serial ("body serial", "lens serial"), in the same order
    serial_labels: list[str] = field(default_factory=list)
    #: how many of each counted thing: MPF extra images, HEIF thumbnails and auxiliary images
    counts: dict[str, int] = field(default_factory=dict)
    video_bytes: int = 0

    def as_dict(self) -> dict:
        return {
            "kinds": self.kinds, "gps": list(self.gps) if self.gps else None, "taken": self.taken,
            "camera": self.camera, "serials": self.serials, "names": self.names,
            "software": self.software, "trailer_bytes": self.trailer_bytes,
            "video_bytes": self.video_bytes, "serial_labels": self.serial_labels, "counts": self.counts,
        }

    def risks(self) -> list[str]:
        """Plain words, most telling first: 'GPS 48.85837 N, 2.29448 E', 'iPhone 13 Pro', ..."""
        words = []
        if self.gps:
            lat, lon = self.gps
            words.append(f"GPS {abs(lat):.5f} {'N' if lat >= 0 else 'S'}, "
                         f"{abs(lon):.5f} {'E' if lon >= 0 else 'W'}")
        if self.camera:
            words.append(self.camera)
        labels = self.serial_labels or ["serial"] * len(self.serials)
        words += [f"{label} {serial}" for label, serial in zip(labels, self.serials)]
        if self.taken:
            words.append(_plain_date(self.taken))
        words += [f"name {name}" for name in self.names]
        if self.software:
            words.append(f"software {self.software}")
        for kind in self.kinds:
            if kind in ("gps", "exif", "camera", "date", "names", "software"):
                continue  # said above in detail, or only a container of what is said above
            if kind == "video" and self.video_bytes:
                words.append(f"{KIND_WORDS[kind]} ({_plain_size(self.video_bytes)})")
            elif kind == "trailer" and self.trailer_bytes > self.video_bytes:
                words.append(f"{KIND_WORDS[kind]} ({_plain_size(self.trailer_bytes - self.video_bytes)})")
            elif kind == "trailer":
                continue  # all of it is the video named above
            elif kind in _COUNTED_WORDS and self.counts.get(kind, 0) > 1:
                words.append(f"{self.counts[kind]} {_COUNTED_WORDS.get(kind, KIND_WORDS.get(kind, kind))}")
            else:
                words.append(KIND_WORDS.get(kind, kind))
        return words


_COUNTED_WORDS = {"thumbnail": "embedded thumbnails", "mpf": "extra images (MPF)",
                  "auxiliary": "auxiliary images (depth, alpha or HDR maps)", "video": "Motion Photo videos",
                  "tracks": "other tracks (timed metadata, subtitles, a second video)"}


def read_metadata(image: Image.Image, containers: list[Container]) -> Metadata:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about every corrupt tag: we report, not warn
        return _read_metadata(image, containers)


def _read_metadata(image: Image.Image, containers: list[Container]) -> Metadata:
    found = Metadata()
    kinds = {c.kind for c in containers if c.kind}
    found.trailer_bytes = sum(c.size for c in containers if c.kind == "trailer")
    found.video_bytes = sum(c.size for c in containers if c.kind == "video")
    for c in containers:
        if c.kind:
            found.counts[c.kind] = found.counts.get(c.kind, 0) + (c.count or 1)
    if "icc" in kinds and _clean_profile(image):
        kinds.discard("icc")  # a sanitised standard profile gives nothing away
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - a broken EXIF block still counts as EXIF found
        exif = None
    if exif and set(exif) != {_T.Orientation}:  # Orientation alone gives nothing away
        kinds.add("exif")
        _read_exif(exif, found, kinds)
        if image.format == "TIFF" and not any(c.kind == "thumbnail" for c in containers):
            kinds.discard("thumbnail")  # a TIFF's next directory is a page unless the walker says otherwise
    if image.info.get("xmp"):
        kinds.add("xmp")
    if image.info.get("comment"):
        kinds.add("comment")
    if found.trailer_bytes and _looks_like_video(image, containers):
        kinds.add("video")
        found.video_bytes = found.video_bytes or found.trailer_bytes
    found.kinds = ordered_kinds(kinds)
    return found


def ordered_kinds(kinds: set[str]) -> list[str]:
    """Kinds of metadata in the order they are told (KIND_WORDS), unknown ones after."""
    return [k for k in KIND_WORDS if k in kinds] + sorted(kinds - KIND_WORDS.keys())


def _read_exif(exif: Image.Exif, found: Metadata, kinds: set[str]) -> None:
    exif_ifd = _safe_ifd(exif, _EXIF_IFD)
    merged = {**exif, **exif_ifd}
    make, model = _text(merged.get(_T.Make)), _text(merged.get(_T.Model))
    if make or model:
        # "Apple" + "iPhone 13" reads "Apple iPhone 13", but "Canon" + "Canon EOS 40D" only once
        brand = (make or "").split()[:1]
        found.camera = model if model and brand and model.startswith(brand[0]) else \
            " ".join(part for part in (make, model) if part)
    serials = [(label, _text(merged.get(tag))) for tag, label in _SERIAL_TAGS.items()]
    found.serials = [value for _, value in serials if value]
    found.serial_labels = [label for label, value in serials if value]
    names = [s for s in (_text(merged.get(tag)) for tag in _NAME_TAGS) if s]
    found.names = list(dict.fromkeys(names))  # an artist is often the copyright holder too
    found.software = _text(merged.get(_T.Software))
    found.taken = next((d for d in (_text(merged.get(tag)) for tag in (*_DATE_TAGS, _T.DateTime)) if d), None)
    if _T.MakerNote in merged:
        kinds.add("maker-notes")
    if _safe_ifd(exif, _IFD1):
        kinds.add("thumbnail")
    gps = _safe_ifd(exif, _GPS_IFD)
    if gps:
        kinds.add("gps")
        found.gps = _gps_degrees(gps)


def _clean_profile(image: Image.Image) -> bool:
    profile = image.info.get("icc_profile")
    return isinstance(profile, bytes) and icc.is_clean(profile)


def _safe_ifd(exif: Image.Exif, ifd: int) -> dict:
    try:
        return dict(exif.get_ifd(ifd))
    except Exception:  # noqa: BLE001 - corrupt sub-IFDs are reported as absent, never crash a scan
        return {}


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\0").strip()
    return value or None


def _gps_degrees(gps: dict) -> tuple[float, float] | None:
    try:
        lat = _dms(gps[ExifTags.GPS.GPSLatitude]) * (-1 if _text(gps.get(ExifTags.GPS.GPSLatitudeRef)) == "S" else 1)
        lon = _dms(gps[ExifTags.GPS.GPSLongitude]) * (-1 if _text(gps.get(ExifTags.GPS.GPSLongitudeRef)) == "W" else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return round(lat, 6), round(lon, 6)


def _dms(values) -> float:
    degrees, minutes, seconds = (float(v) for v in values)
    return degrees + minutes / 60 + seconds / 3600


def _looks_like_video(image: Image.Image, containers: list[Container]) -> bool:
    xmp = image.info.get("xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode()
    # Pillow keeps one XMP packet in info; a JPEG's applist has every APP segment
    packets = [xmp] + [payload for name, payload in getattr(image, "applist", []) if name == "APP1"]
    return any(c.kind == "video" for c in containers) or any(
        b"MotionPhoto" in packet or b"MicroVideo" in packet for packet in packets)


def _plain_date(taken: str) -> str:
    try:
        return datetime.strptime(taken[:19], "%Y:%m:%d %H:%M:%S").strftime("%d %b %Y %H:%M")
    except ValueError:
        return taken


def _plain_size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def harmless_info(info: dict) -> set[str]:
    """Keys of a decoded copy's ``info`` that a clean copy may hold: an EXIF block with only
    the Orientation tag, and an ICC profile that icc.sanitise has cleaned."""
    allowed = set()
    exif = info.get("exif")
    if isinstance(exif, bytes) and is_orientation_exif(exif if exif.startswith(b"Exif") else b"Exif\0\0" + exif):
        allowed.add("exif")
    profile = info.get("icc_profile")
    if isinstance(profile, bytes) and icc.is_clean(profile):
        allowed.add("icc_profile")
    return allowed
