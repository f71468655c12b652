"""The model files shipped in the package, read and checked against their known hash."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from ...errors import ModelError

MODELS = Path(__file__).with_name("models")


def engine_error(message: str, fix: str, path: Path | None = None) -> ModelError:
    """A ModelError whose fix is not the default "reinstall photoguard" (one line: a library's
    own message may span several)."""
    error = ModelError(" ".join(message.split()), path)
    error.fix = fix
    return error


def read_model(path: Path, sha256: str) -> bytes:
    """The model file's bytes, checked against their known hash."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"face model missing: {path} ({exc.strerror})", path) from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(f"face model damaged (sha256 mismatch): {path}", path)
    return data


@lru_cache(maxsize=8)
def checked_model(path: Path, sha256: str) -> Path:
    """``path``, once its file has been checked (once per process). For engines that load the
    file themselves: the bytes are not kept (a worker's memory is counted)."""
    read_model(path, sha256)
    return path
