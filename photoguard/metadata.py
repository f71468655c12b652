"""What a photo gives away: the metadata found in a file, in fields and in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from PIL import ExifTags, Image

from .formats import Container

_GPS_IFD, _EXIF_IFD, _IFD1 = ExifTags.IFD.GPSInfo, ExifTags.IFD.Exif, ExifTags.IFD.IFD1
_T = ExifTags.Base
_SERIAL_TAGS = (_T.BodySerialNumber, _T.LensSerialNumber)
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

    def as_dict(self) -> dict:
        return {
            "kinds": self.kinds, "gps": list(self.gps) if self.gps else None, "taken": self.taken,
            "camera": self.camera, "serials": self.serials, "names": self.names,
            "software": self.software, "trailer_bytes": self.trailer_bytes,
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
        words += [f"serial {serial}" for serial in self.serials]
        if self.taken:
            words.append(_plain_date(self.taken))
        words += [f"name {name}" for name in self.names]
        if self.software:
            words.append(f"software {self.software}")
        for kind in self.kinds:
            if kind in ("gps", "exif", "camera", "date", "names", "software"):
                continue  # said above in detail, or only a container of what is said above
            if kind in ("trailer", "video") and self.trailer_bytes:
                words.append(f"{KIND_WORDS[kind]} ({_plain_size(self.trailer_bytes)})")
            else:
                words.append(KIND_WORDS.get(kind, kind))
        return words


def read_metadata(image: Image.Image, containers: list[Container]) -> Metadata:
    found = Metadata()
    kinds = {c.kind for c in containers if c.kind}
    found.trailer_bytes = sum(c.size for c in containers if c.kind in ("trailer", "video"))
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - a broken EXIF block still counts as EXIF found
        exif = None
    if exif:
        kinds.add("exif")
        _read_exif(exif, found, kinds)
    if image.info.get("xmp"):
        kinds.add("xmp")
    if image.info.get("comment"):
        kinds.add("comment")
    if found.trailer_bytes and _looks_like_video(image, containers):
        kinds.add("video")
    found.kinds = [k for k in KIND_WORDS if k in kinds] + sorted(kinds - KIND_WORDS.keys())
    return found


def _read_exif(exif: Image.Exif, found: Metadata, kinds: set[str]) -> None:
    exif_ifd = _safe_ifd(exif, _EXIF_IFD)
    merged = {**exif, **exif_ifd}
    make, model = _text(merged.get(_T.Make)), _text(merged.get(_T.Model))
    if make or model:
        found.camera = model if make and model and model.startswith(make.split()[0]) else \
            " ".join(part for part in (make, model) if part)
    found.serials = [s for s in (_text(merged.get(tag)) for tag in _SERIAL_TAGS) if s]
    found.names = [s for s in (_text(merged.get(tag)) for tag in _NAME_TAGS) if s]
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
    value = value.strip("\0 \t\r\n")
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
    return any(c.kind == "video" for c in containers) or b"MotionPhoto" in xmp or b"MicroVideo" in xmp


def _plain_date(taken: str) -> str:
    try:
        return datetime.strptime(taken[:19], "%Y:%m:%d %H:%M:%S").strftime("%d %b %Y %H:%M")
    except ValueError:
        return taken


def _plain_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
