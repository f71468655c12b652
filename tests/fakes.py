"""Set-ups for worker processes, importable by name in a freshly spawned process (so they
must live in a module of their own, not in a test file's closure)."""

from __future__ import annotations

import time

from photoguard.parts.detect.base import Face

#: photos of this size get stuck in the worker that cleans them
STUCK_SIZE = (330, 250)


class _FaceEverywhere:
    name = "fake"

    def detect(self, rgb):
        return [Face((10, 10, 40, 40), 0.9)]


def stuck_while_checking_one_photo() -> None:
    """Every photo has a face; the one of STUCK_SIZE hangs, uninterruptibly, once its copy is
    written under its temporary name (while it is being checked), as a call stuck in C would."""
    from photoguard.media import still
    from photoguard.parts import detection

    detection.get_detector = lambda options: _FaceEverywhere()
    checked = still.verify_copy

    def verify(path, handler, expected_size):
        if expected_size == STUCK_SIZE:
            time.sleep(600)
        checked(path, handler, expected_size)

    still.verify_copy = verify

