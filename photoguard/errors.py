"""The exception hierarchy. Each exception knows its exit code and its one-line message.

The library raises these; only the CLI turns them into exit codes (see ``cli.py``).
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    ok = 0
    some_files_failed = 1
    usage = 2
    interrupted = 130
    terminated = 143


class PhotoguardError(Exception):
    """Base class: a message a user can act on, optionally naming the file involved."""

    exit_code = ExitCode.some_files_failed
    #: a short hint telling the user what to do about it; subclasses override
    fix = ""

    def __init__(self, message: str, path: str | Path | None = None):
        super().__init__(message)
        self.message = message
        self.path = None if path is None else Path(path)

    def __str__(self) -> str:
        text = self.message
        if self.fix:
            text = f"{text} ({self.fix})"
        return text


class UsageError(PhotoguardError):
    """The command line asks for something impossible (e.g. output inside an input folder)."""

    exit_code = ExitCode.usage


class InputError(PhotoguardError):
    """The input file cannot be read or is not a usable image."""


class UnsupportedFormat(InputError):
    fix = "photoguard reads JPEG, PNG, WebP, TIFF, GIF, HEIC/HEIF and AVIF"


class UnsupportedVideo(InputError):
    fix = "photoguard cleans MP4, MOV, M4V and 3GP videos whose picture and sound FFmpeg decodes"


class DecodeError(InputError):
    fix = "the file may be truncated or corrupt; try opening it in an image viewer"


class VideoDecodeError(DecodeError):
    fix = "the file may be truncated or corrupt; try playing it in a video player"


class ImageTooLarge(InputError):
    fix = "raise --max-pixels if you trust this file"


class VideoTooLong(InputError):
    fix = "raise --max-duration if you trust this file"


class UnsafeToClean(PhotoguardError):
    """A clean copy cannot be guaranteed for this file, so none is written."""


class OutputError(PhotoguardError):
    """Writing the cleaned copy failed (disk full, permissions, existing file...)."""


class OutputExists(OutputError):
    fix = "use --overwrite to replace it"


class VerificationError(OutputError):
    """The written copy did not pass the re-read check; it was removed."""


class TimeBudgetExceeded(PhotoguardError):
    fix = "raise --max-seconds if the file is sound but slow"


class ModelError(PhotoguardError):
    """A face detection model is missing or damaged; nothing can be cleaned safely."""

    exit_code = ExitCode.usage
    fix = "reinstall photoguard"


def reason(exc: BaseException) -> str:
    """A library's exception as a short one-line reason (its first line, or its type's name)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that no per-file
    ``except Exception`` swallows it: the whole run stops."""
