"""The review page: what photoguard did (or will do) to each photo, for a parent to check and fix.

One HTML file (``photoguard-review.html``, script and styles inline, no network) and the
small preview images it shows (``photoguard-review/``), written into the output folder next
to the cleaned copies. Photos are named only by their copies' names; originals are linked,
never copied, and only where that leaks nothing new (the default ``FOLDER-safe`` layout) or
when asked (``show_paths``). Every name goes into the page as JSON and is put in the DOM as
text, never as markup.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import numpy as np
from PIL import Image, ImageOps

from . import batch, pipeline
from .batch.plan import Job, default_output_root
from .batch.state import file_sha256
from .errors import OutputError, UsageError
from .media.video import Source, duration_seconds, scan_video
from .media.video.preview import contact_sheet
from .options import Options
from .parts import atomic, detection, picture, regions
from .parts.detect.base import Face, iou
from .parts.metadata import KIND_WORDS
from .parts.obscure import obscure
from .parts.results import Result

PAGE_NAME = "photoguard-review.html"
FILES_FOLDER = "photoguard-review"
_PREVIEW_NAME = re.compile(r"\d{5}(-large)?\.jpg")
#: long side of the previews shown in the page's grid: sized for a screen, not for print
THUMB_SIDE = 600
THUMB_QUALITY = 65
#: long side of the enlarged preview, made only where no cleaned copy a browser shows exists
LARGE_SIDE = 1600
LARGE_QUALITY = 80
#: formats of cleaned copies that browsers show, so the enlarged view can use the copy itself
BROWSER_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
#: detections scoring below this get a "check this one" badge
LOW_SCORE = {"centerface": 0.5, "haar": 0.7}
#: plain words for what was removed; never the values themselves (the page must not leak them)
RISK_WORDS = {**KIND_WORDS, "exif": "camera details and dates (EXIF)",
              "xmp": "descriptive data (XMP: names, places, tags)", "iptc": "captions and keywords (IPTC)"}


@dataclass
class Photo:
    """What the page shows about one photo; built in the worker processes."""

    digest: str
    width: int
    height: int
    #: faces the detector found, before corrections (displayed pixels of the full photo)
    detected: list[Face]
    removed: list[str]
    thumb: bytes
    thumb_size: tuple[int, int]
    large: bytes | None = None
    #: a video: the times (seconds) of the frames shown side by side
    times: list[float] | None = None


@dataclass
class Reviewed(Result):
    """A clean result, with what the review page needs."""

    photo: Photo | None = None


@dataclass
class Preview:
    """A photo reviewed before cleaning: what a clean would do."""

    input: Path
    photo: Photo
    status: str = "previewed"
    faces: list[Face] = field(default_factory=list)


# --- worker side ---------------------------------------------------------------------------


def clean_and_preview(job: Job, options: Options) -> Result:
    """``clean_job``, then a preview made from the written copy (so it shows exactly what was written)."""
    result = batch.clean_job(job, options)
    if result.status != "cleaned":
        return result
    reviewed = Reviewed(**vars(result))
    written = atomic.written_path(result.output)  # in a batch, the copy is not in place yet
    try:
        if pipeline.is_video(written):
            reviewed.photo = _video_card(Source(written), result.input, result.removed, result.faces,
                                         duration_seconds(written))
            return reviewed
        data = result.input.read_bytes()
        with Image.open(written) as copy:
            width, height = picture.displayed_size(copy)
            browser_shows = copy.format in BROWSER_FORMATS
            copy.draft("RGB", (THUMB_SIDE, THUMB_SIDE))  # JPEG: decode at reduced size
            shown = _rgb(ImageOps.exif_transpose(copy))
        if not browser_shows:
            with Image.open(written) as copy:
                shown = _rgb(ImageOps.exif_transpose(copy))
        detected = _before_corrections(options, data, result.faces)
        reviewed.photo = _photo(regions.content_hash(data), (width, height), detected, result.removed, shown,
                                large=not browser_shows)
    except Exception:  # noqa: BLE001 - the copy is written and verified; only its preview is missing
        reviewed.photo = None
    return reviewed


def preview_job(job: Job, options: Options) -> Preview | Result:
    """What cleaning would do, without writing a copy: faces found, corrections applied, obscured preview."""
    return batch.guarded(job, options, _preview)


def _preview(job: Job, options: Options) -> Preview:
    if pipeline.is_video(job.src):
        report = scan_video(Source(job.src), options)
        photo = _video_card(Source(job.src), job.src, report.metadata.kinds, report.faces, report.seconds or 0.0,
                            obscure=options)
        return Preview(job.src, photo, faces=report.faces)
    photo = picture.read_file(job.src, options.max_pixels)
    data, metadata = photo.data, photo.metadata
    displayed = picture.displayed_size(photo.image)
    detected = detection.find_faces(data, job.src, options, displayed) if options.faces else []
    faces = regions.apply(options, data, detected)
    shown = picture.for_detection(data, job.src, options.max_pixels, LARGE_SIDE)
    shown.thumbnail((LARGE_SIDE, LARGE_SIDE), Image.Resampling.LANCZOS)
    if faces:
        fx, fy = shown.width / displayed[0], shown.height / displayed[1]
        scaled = [face.scaled(fx, fy) for face in faces]
        shown = Image.fromarray(obscure(np.asarray(shown), scaled, options.mode, options.mask_scale))
    photo = _photo(regions.content_hash(data), displayed, detected, metadata.kinds, shown, large=True)
    return Preview(job.src, photo, faces=faces)


def _video_card(frames_from, original: Path, removed: list[str], spans: list, seconds: float,
                obscure: Options | None = None) -> Photo:
    """A video's card: a few of its frames side by side, the faces outlined in each."""
    sheet, outlined, times = contact_sheet(frames_from, seconds, spans, obscure)
    photo = _photo(file_sha256(original), sheet.size, outlined, removed, sheet, large=True)
    photo.times = [round(t, 2) for t in times]
    return photo


def _before_corrections(options: Options, data: bytes, faces: list[Face]) -> list[Face]:
    """The detections of a cleaned photo: its obscured faces less the added ones, plus the kept ones."""
    corrections = options.regions
    photo = corrections.get(regions.content_hash(data)) if corrections else None
    if photo is None:
        return faces
    added = set(photo.add)
    return [f for f in faces if not (f.score == regions.ADDED_SCORE and f.box in added)] + \
           [Face(box, 0.0) for box in photo.keep]


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (200, 200, 200))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _jpeg(image: Image.Image, side: int, quality: int) -> tuple[bytes, tuple[int, int]]:
    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue(), image.size


def _photo(digest: str, size: tuple[int, int], detected: list[Face], removed: list[str],
           shown: Image.Image, large: bool) -> Photo:
    thumb, thumb_size = _jpeg(shown, THUMB_SIDE, THUMB_QUALITY)
    big = _jpeg(shown, LARGE_SIDE, LARGE_QUALITY)[0] if large and max(shown.size) > THUMB_SIDE else None
    return Photo(digest, size[0], size[1], list(detected), list(removed), thumb, thumb_size, big)


# --- the page ------------------------------------------------------------------------------


class Pages:
    """One review page per output folder, filled as results come in, written at the end."""

    def __init__(self, options: Options, show_paths: bool = False, cleaned: bool = True):
        self.options, self.show_paths, self.cleaned = options, show_paths, cleaned
        self.pages: dict[Path, _Page] = {}

    def open(self, jobs: list[Job]) -> "Pages":
        """The pages of the jobs' output folders, made ready before any work (a folder the
        page cannot be written into stops the run before it starts)."""
        for root in sorted({job.out_root for job in jobs if job.out_root}):
            self.pages.setdefault(root, _Page(root, self))
        return self

    def add(self, job: Job, item) -> None:
        if job.out_root is None:  # not an image: nothing to review
            return
        page = self.pages.get(job.out_root)
        if page is None:
            page = self.pages[job.out_root] = _Page(job.out_root, self)
        page.add(job, item)

    def write(self) -> list[Path]:
        return [page.write() for _, page in sorted(self.pages.items())]


class _Page:
    def __init__(self, out_root: Path, pages: Pages):
        self.root, self.pages, self.entries, self.not_shown = out_root, pages, [], 0
        self.files = out_root / FILES_FOLDER
        if os.path.islink(self.files):  # its previews would be written, and old ones removed, elsewhere
            raise UsageError(f"{self.files} is a link; photoguard never writes through links in an output folder "
                             "(remove it, or choose another output folder)", self.files)
        try:
            self.files.mkdir(parents=True, exist_ok=True)
            earlier = list(self.files.iterdir())
        except OSError as exc:
            raise UsageError(f"cannot write the review page into {out_root}: {exc.strerror or exc}", out_root) from exc
        if any(not _PREVIEW_NAME.fullmatch(p.name) for p in earlier):
            raise UsageError(f"{self.files} holds files photoguard did not write there; "
                             "move them, or choose another output folder with -o", self.files)
        #: the previews of an earlier run, removed once this run works (it holds the lock then)
        self.earlier = earlier

    def _clear_earlier(self) -> None:
        for old in self.earlier:
            old.unlink(missing_ok=True)
        self.earlier = []

    def add(self, job: Job, item) -> None:
        self._clear_earlier()
        photo = getattr(item, "photo", None)
        if photo is None:
            self.not_shown += 1
            return
        options, number = self.pages.options, len(self.entries) + 1
        name = job.dst.relative_to(self.root).as_posix()
        thumb = f"{number:05d}.jpg"
        _write_new(self.files / thumb, photo.thumb)
        if photo.large:
            large = f"{number:05d}-large.jpg"
            _write_new(self.files / large, photo.large)
            large_url = _url(f"{FILES_FOLDER}/{large}")
        elif self.pages.cleaned:
            large_url = _url(name)  # the cleaned copy itself
        else:
            large_url = None
        corrections = options.regions.get(photo.digest) if options.regions else None
        low = LOW_SCORE.get(options.detector, 0.5)
        kept = corrections.keep if corrections else ()
        faces = [{"box": list(f.box), "score": round(float(f.score), 3), "low": bool(f.score < low)}
                 for f in photo.detected if not any(iou(f.box, k) >= regions.KEEP_IOU for k in kept)]
        warnings = []
        added = [list(b) for b in corrections.add] if corrections else []
        if not options.faces:
            warnings.append("Faces were not looked for")
        elif not faces and not kept and not added:
            warnings.append("No face found: check for missed faces")
        lows = sum(face["low"] for face in faces)
        if lows:
            warnings.append(f"{lows} face{'s' * (lows > 1)} found with a low score: check {'them' if lows > 1 else 'it'}")
        verb = "removed" if self.pages.cleaned else "will be removed"
        entry = {
            "name": name, "hash": photo.digest, "w": photo.width, "h": photo.height,
            "thumb": _url(f"{FILES_FOLDER}/{thumb}"), "tw": photo.thumb_size[0], "th": photo.thumb_size[1],
            "large": large_url, "original": None if photo.times else self._original(job), "faces": faces,
            "times": photo.times,
            "added": added, "kept": [list(b) for b in corrections.keep] if corrections else [],
            "risks": [f"{RISK_WORDS.get(kind, 'other metadata')} {verb}" for kind in photo.removed]
            or ["No metadata found"],
            "warnings": warnings,
        }
        if self.pages.show_paths:
            entry["path"] = str(job.src)
        self.entries.append(entry)

    def _original(self, job: Job) -> str | None:
        """A relative link to the original, where it says nothing the copies' names do not."""
        relative = job.src.relative_to(job.root).as_posix()
        if self.root == default_output_root(job.root):
            return _url(f"../{job.root.resolve().name}/{relative}")
        if self.pages.show_paths:
            return _url(Path(os.path.relpath(job.src.resolve(), self.root)).as_posix())
        return None

    def write(self) -> Path:
        self._clear_earlier()
        options = self.pages.options
        order = sorted(self.entries, key=lambda e: (not e["warnings"], e["name"]))
        seen = {e["hash"] for e in order}
        others = {}
        if options.regions:  # corrections for photos not on this page are kept when saving again
            others = {d: v for d, v in options.regions.to_json()["photos"].items() if d not in seen}
        data = {
            "photos": order, "others": others, "mode": options.mode, "maskScale": options.mask_scale,
            "cleaned": self.pages.cleaned, "notShown": self.not_shown,
        }
        target = self.root / PAGE_NAME
        temporary = target.with_name(f".{PAGE_NAME}.tmp")
        try:
            _write_new(temporary, render(data).encode("utf-8"))
            os.replace(temporary, target)  # a link at the page's name is replaced, not written through
        except OSError as exc:
            raise OutputError(f"cannot write the review page: {exc.strerror or exc}", target) from exc
        return target


def _write_new(path: Path, data: bytes) -> None:
    """A file of the review's written afresh: a link planted at its name is removed, not followed."""
    with atomic.create_new(path) as handle:
        handle.write(data)


def _url(relative: str) -> str:
    return quote(relative, safe="/")


def script_json(data) -> str:
    """JSON that cannot end the <script> element it sits in, whatever the strings hold."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(data: dict) -> str:
    assets = resources.files("photoguard") / "review_assets"
    template = (assets / "page.html").read_text(encoding="utf-8")
    parts = {"CSS": (assets / "review.css").read_text(encoding="utf-8"),
             "JS": (assets / "review.js").read_text(encoding="utf-8"),
             "DATA": script_json(data)}
    return re.sub(r"\{\{(CSS|JS|DATA)\}\}", lambda m: parts[m.group(1)], template)
