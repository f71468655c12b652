"""Finding inputs and deciding where each one's clean copy goes."""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import UsageError
from ..media.video.motion import clip_path
from ..parts.formats import BY_NAME, IMAGE_SUFFIXES, SNIFF_BYTES, output_format, sniff
from ..parts.results import Entry
from .state import STATE_FOLDER, file_sha256

OUTPUT_SUFFIX = "-safe"
#: why a folder found in an input is not walked: it holds the copies of an earlier run
EARLIER_OUTPUT = "an output folder of photoguard (it holds .photoguard/): left out"


@dataclass(frozen=True)
class Job:
    """One input file, where it was found, and where its copy goes."""

    src: Path
    #: the folder given on the command line that this file was found under (or its parent)
    root: Path
    #: the handler name for images, or None for files that are not images
    format: str | None
    #: why the file cannot be cleaned, when that is known before opening it as an image
    problem: str | None = None
    #: why a file that is not an image is left alone
    skip: str | None = None
    dst: Path | None = None
    #: the output folder that mirrors ``root``
    out_root: Path | None = None
    #: what an earlier run recorded about the copy at ``dst``
    previous: Entry | None = None
    #: what an earlier run recorded about the Motion Photo clip beside it (--keep-motion)
    previous_clip: Entry | None = None
    #: given by name on the command line, rather than found in a folder that was given
    named: bool = False


def find_inputs(paths: list[Path], follow_links: bool = False) -> list[Job]:
    """Every file under ``paths``, folders walked recursively in sorted order.

    Links to folders are followed only with ``follow_links`` (and then each folder once,
    so a link loop ends); otherwise they are listed as skipped.
    """
    jobs = []
    for path in paths:
        if path.is_dir():
            jobs += _walk(path, follow_links)
        elif path.exists() or path.is_symlink():
            jobs.append(replace(_sniffed(path, path.parent), named=True))
        else:
            raise UsageError(f"{path}: no such file or folder")
    return jobs


def _walk(root: Path, follow_links: bool) -> list[Job]:
    jobs, unreadable, seen = [], [], set()
    for folder, dirnames, filenames in os.walk(root, onerror=unreadable.append, followlinks=follow_links):
        here = os.stat(folder)
        if (here.st_dev, here.st_ino) in seen:  # reached again through a link: a loop
            dirnames[:] = []
            continue
        seen.add((here.st_dev, here.st_ino))
        dirnames.sort()
        for name in list(dirnames):
            if os.path.isdir(os.path.join(folder, name, STATE_FOLDER)):  # copies, never cleaned again
                dirnames.remove(name)
                jobs.append(Job(Path(folder) / name, root, None, skip=EARLIER_OUTPUT))
            elif not follow_links and os.path.islink(os.path.join(folder, name)):
                jobs.append(Job(Path(folder) / name, root, None, skip="a link to a folder (use --follow-links)"))
        for name in sorted(filenames):
            jobs.append(_sniffed(Path(folder) / name, root))
    # a folder that cannot be listed is reported, never silently left out
    jobs += [Job(Path(error.filename), root, None, f"cannot read the folder: {error.strerror}")
             for error in unreadable]
    return jobs


def _sniffed(path: Path, root: Path) -> Job:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or device would block or never end
            return Job(path, root, None, skip="not a regular file")
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        return Job(path, root, None, f"cannot read the file: {exc.strerror or exc}")
    handler = sniff(head)
    if handler:
        return Job(path, root, handler.name)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        what = "the file is empty" if not head else "its content is not one photoguard reads"
        return Job(path, root, None, f"named like an image or a video but {what}")
    return Job(path, root, None)


def default_output_root(root: Path) -> Path:
    resolved = root.resolve()
    return resolved.parent / (resolved.name + OUTPUT_SUFFIX)


def plan_outputs(jobs: list[Job], out: Path | None, requested_format: str, rename: bool = False) -> list[Job]:
    """Give every image a distinct, deterministic output path; refuse unsafe layouts.

    ``rename``: neutral names, ``photo-`` and the start of the content's hash, all in the output
    folder itself, so no date or name from a file or folder name reaches the copies.
    """
    planned, taken = [], set()
    for job in jobs:
        if job.format is None:
            planned.append(job)
            continue
        target_root = out.resolve() if out else default_output_root(job.root)
        _refuse_overlap(target_root, job)
        relative = Path(f"photo-{_content_digest(job.src)}") if rename else job.src.relative_to(job.root)
        handler = BY_NAME[output_format(job.format, requested_format)]
        suffix = job.src.suffix if job.src.suffix.lower() in handler.extensions else handler.extensions[0]
        relative = relative.with_suffix(suffix)
        dst = target_root.joinpath(*(portable_name(part) for part in relative.parts))
        if _taken(dst, taken):  # a.jpg and a.heic both want a.jpg: name the later one after its origin
            dst = dst.with_name(portable_name(f"{dst.stem}-{job.src.suffix.lstrip('.').lower()}{suffix}"))
        counter = 2
        while _taken(dst, taken):
            dst = dst.with_name(portable_name(f"{dst.stem}-{counter}{suffix}"))
            counter += 1
        if dst.resolve() == job.src.resolve():
            raise UsageError(f"the copy of {job.src} would replace the original; choose another folder with -o")
        taken.add(_fold(dst))
        planned.append(replace(job, dst=dst, out_root=target_root))
    planned = _clear_of_motion_clips(planned, taken)
    if os.name == "nt":
        planned = _long_paths_where_needed(planned)
    return planned


def _clear_of_motion_clips(planned: list[Job], taken: set[str]) -> list[Job]:
    """A video whose copy would take the name of a Motion Photo's clip (IMG_1-motion.mp4 beside
    IMG_1.jpg, with --keep-motion) is named after its origin instead, as other collisions are."""
    clips = {_fold(clip_path(job.dst)) for job in planned if job.dst and job.format in ("jpeg", "heif")}
    moved = []
    for job in planned:
        if job.format == "video" and _fold(job.dst) in clips:
            dst, counter = job.dst.with_name(f"{job.dst.stem}-2{job.dst.suffix}"), 3
            while _fold(dst) in taken or _fold(dst) in clips:
                dst, counter = job.dst.with_name(f"{job.dst.stem}-{counter}{job.dst.suffix}"), counter + 1
            taken.add(_fold(dst))
            job = replace(job, dst=dst)
        moved.append(job)
    return moved


#: characters Windows does not allow in names (besides control characters)
_NOT_ON_WINDOWS = set('<>:"/\\|?*')
#: names Windows keeps for devices, with or without an extension (con.jpg too)
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}
#: the longest name (bytes of UTF-8) that common file systems take: ext4, APFS, NTFS, exFAT
NAME_MAX = 255


def portable_name(name: str) -> str:
    """``name`` made valid on Windows, macOS and Linux file systems alike: characters Windows
    refuses and control characters become "_", trailing dots and spaces too, device names
    (CON, NUL, COM1...) get a "_", and a name too long is shortened, keeping its suffix."""
    name = "".join("_" if ch in _NOT_ON_WINDOWS or ord(ch) < 32 else ch for ch in name)
    stripped = name.rstrip(". ")
    name = stripped + "_" * (len(name) - len(stripped))
    stem, dot, extension = name.partition(".")
    if stem.rstrip(" ").upper() in _DEVICES:
        name = f"{stem}_{dot}{extension}"
    if len(os.fsencode(name)) > NAME_MAX:
        suffix = Path(name).suffix if len(Path(name).suffix) < 16 else ""
        stem = os.fsencode(name[: len(name) - len(suffix)])[: NAME_MAX - len(os.fsencode(suffix))]
        name = stem.decode("utf-8", "ignore") + suffix
    return name


def _fold(path: Path) -> str:
    """Windows and macOS do not tell A.jpg from a.jpg, nor é written as one character from é
    written as e and an accent (macOS): neither do the copies' names."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", str(path)).casefold())


def _taken(dst: Path, taken: set[str]) -> bool:
    return _fold(dst) in taken


#: Windows refuses longer paths unless they are written in their extended form
WINDOWS_MAX_PATH = 259


def extended_path(path: str) -> str:
    r"""The extended-length form of an absolute Windows path (\\?\C:\... or \\?\UNC\server\...)."""
    if path.startswith("\\\\?\\"):
        return path
    if path.startswith("\\\\"):
        return "\\\\?\\UNC\\" + path[2:]
    return "\\\\?\\" + path


def _long_paths_where_needed(jobs: list[Job]) -> list[Job]:
    """Output folders holding a copy whose path is too long for Windows are written through
    their extended-length form, and so is every copy in them."""
    long_roots = {job.out_root for job in jobs if job.dst and len(str(job.dst)) > WINDOWS_MAX_PATH}
    extended = {root: Path(extended_path(str(root))) for root in long_roots}
    return [replace(job, out_root=extended[job.out_root], dst=extended[job.out_root] / job.dst.relative_to(job.out_root))
            if job.out_root in extended else job for job in jobs]


def _content_digest(path: Path) -> str:
    try:
        return file_sha256(path)[:16]
    except OSError:  # unreadable now: the job reports it when it tries to read the file
        return "unreadable-" + hashlib.sha256(os.fsencode(path)).hexdigest()[:8]


def _refuse_overlap(target_root: Path, job: Job) -> None:
    """The copies and the originals never share a folder tree: copies inside an input folder
    would be cleaned again by a later run (and could take an original's place), originals
    inside the output folder would sit among the copies it calls safe."""
    input_root, source = job.root.resolve(), job.src.resolve()
    if not job.named and (target_root == input_root or input_root in target_root.parents):
        raise UsageError(f"the output folder {target_root} is inside the input folder {job.root}; "
                         "choose another with -o")
    if target_root in source.parents:
        raise UsageError(f"the output folder {target_root} holds the original {job.src}; "
                         "choose a folder outside the photos with -o")
