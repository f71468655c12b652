"""The corrections file a parent saves from the review page: regions to add, regions to keep.

Format (JSON)::

    {"photoguard": "regions", "version": 1,
     "photos": {"<sha256 of the original file's bytes>":
                    {"name": "kids/beach.jpg", "add": [[x, y, w, h], ...], "keep": [[x, y, w, h], ...]}}}

Boxes are in the displayed (orientation-applied) pixels of the photo, which are the cleaned
copy's pixels. Photos are matched by the content hash of the original, so renamed or moved
files still match; ``name`` is only there for people reading the file.

``add``: a face the detector missed; obscured like any face, with the current mode.
``keep``: a detection to leave visible (a false positive, or the parent's own face): every
detected face that overlaps a kept box by at least ``KEEP_IOU`` is not obscured. Other faces
are still obscured even where their masks reach into a kept box: hiding wins.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .detect.base import Face, iou

FORMAT_NAME = "regions"
VERSION = 1
#: a detected face counts as the kept one when their boxes overlap this much (intersection over union)
KEEP_IOU = 0.5
#: score given to added regions in results (they were placed by a person, not found)
ADDED_SCORE = 1.0
MAX_FILE_BYTES = 50_000_000
MAX_REGIONS_PER_PHOTO = 1000
MAX_COORDINATE = 1_000_000
_HASH = re.compile(r"^[0-9a-f]{64}$")

Box = tuple[int, int, int, int]


def content_hash(data: bytes) -> str:
    """The key of a photo in the corrections file: sha256 of the original file's bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PhotoRegions:
    add: tuple[Box, ...] = ()
    keep: tuple[Box, ...] = ()
    name: str = ""


class Corrections:
    """Validated corrections, by content hash. Immutable and comparable (it sits in Options)."""

    def __init__(self, photos: dict[str, PhotoRegions] | None = None, source: Path | None = None):
        self._photos = dict(photos or {})
        self.source = source

    def __len__(self) -> int:
        return len(self._photos)

    def __contains__(self, digest: str) -> bool:
        return digest in self._photos

    def get(self, digest: str) -> PhotoRegions | None:
        return self._photos.get(digest)

    def items(self):
        return sorted(self._photos.items())

    def __eq__(self, other) -> bool:
        return isinstance(other, Corrections) and self._photos == other._photos

    def __hash__(self) -> int:
        return hash(tuple(self.items()))

    def __repr__(self) -> str:
        return f"Corrections({len(self)} photos)"

    def faces_for(self, digest: str, detected: list[Face]) -> list[Face]:
        """The faces to obscure in the photo with this content hash: detected minus kept, plus added."""
        photo = self._photos.get(digest)
        if photo is None:
            return detected
        faces = [face for face in detected if not any(iou(face.box, box) >= KEEP_IOU for box in photo.keep)]
        faces += [Face(box, ADDED_SCORE) for box in photo.add]
        return faces

    def to_json(self) -> dict:
        return {"photoguard": FORMAT_NAME, "version": VERSION, "photos": {
            digest: {"name": photo.name, "add": [list(b) for b in photo.add], "keep": [list(b) for b in photo.keep]}
            for digest, photo in self.items()}}


def apply(options, data: bytes, faces: list[Face]) -> list[Face]:
    """The pipeline's hook: ``faces`` corrected by ``options.regions`` for the photo ``data``."""
    return apply_to_frames(options, data, [faces])[0]


def apply_to_frames(options, data: bytes, faces_by_frame: list[list[Face]]) -> list[list[Face]]:
    """The same for every frame or page of the file ``data``: a region applies to all of them."""
    corrections = getattr(options, "regions", None)
    if not corrections:
        return faces_by_frame
    digest = content_hash(data)
    return [corrections.faces_for(digest, faces) for faces in faces_by_frame]


def load(path: Path | str) -> Corrections:
    """Read and validate a corrections file; UsageError with a plain message when it is wrong."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"the regions file is larger than {MAX_FILE_BYTES // 1_000_000} MB", path)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the regions file: {exc.strerror or exc}", path) from exc
    except UnicodeDecodeError as exc:
        raise UsageError("the regions file is not UTF-8 text", path) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the regions file is not valid JSON (line {exc.lineno}: {exc.msg})", path) from exc
    return parse(document, path)


def parse(document, path: Path | None = None) -> Corrections:
    def wrong(why: str):
        return UsageError(f"not a photoguard regions file: {why}", path)

    if not isinstance(document, dict) or document.get("photoguard") != FORMAT_NAME:
        raise wrong('expected a JSON object with "photoguard": "regions"')
    if document.get("version") != VERSION:
        raise wrong(f"version {document.get('version')!r} is not supported (expected {VERSION})")
    photos = document.get("photos")
    if not isinstance(photos, dict):
        raise wrong('"photos" must be an object keyed by content hash')
    parsed = {}
    for digest, entry in photos.items():
        if not isinstance(digest, str) or not _HASH.match(digest):
            raise wrong(f"{digest[:80]!r} is not a sha256 content hash (64 lowercase hex digits)")
        if not isinstance(entry, dict):
            raise wrong(f"the entry for {digest[:12]}… must be an object")
        name = entry.get("name", "")
        boxes = {}
        for key in ("add", "keep"):
            values = entry.get(key, [])
            if not isinstance(values, list) or len(values) > MAX_REGIONS_PER_PHOTO:
                raise wrong(f'"{key}" of {digest[:12]}… must be a list of at most {MAX_REGIONS_PER_PHOTO} boxes')
            boxes[key] = tuple(dict.fromkeys(_box(value, wrong, digest) for value in values))
        parsed[digest] = PhotoRegions(boxes["add"], boxes["keep"], name if isinstance(name, str) else "")
    return Corrections(parsed, path)


def _box(value, wrong, digest: str) -> Box:
    if (not isinstance(value, list) or len(value) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise wrong(f"a box of {digest[:12]}… is not [x, y, width, height]: {str(value)[:80]}")
    x, y, w, h = (round(v) for v in value)
    if not (0 <= x <= MAX_COORDINATE and 0 <= y <= MAX_COORDINATE and 0 < w <= MAX_COORDINATE
            and 0 < h <= MAX_COORDINATE):
        raise wrong(f"a box of {digest[:12]}… is out of range: {str(value)[:80]}")
    return x, y, w, h
