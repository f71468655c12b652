"""photoguard: privacy-safe copies of photos, with metadata removed and faces obscured.

Library use: ``clean_file(src, dst, Options())``, ``scan_file(path, Options())``, and for
folders ``clean_paths(paths, output, Options(), executor)``.
"""

from .errors import ExitCode, PhotoguardError
from .options import Options
from .version import __version__ as __version__

__all__ = ["ExitCode", "Options", "PhotoguardError", "Report", "Result", "clean_file", "clean_paths", "scan_file"]


def __getattr__(name: str):
    # the library pulls in numpy and Pillow: loaded on first use, so that `photoguard --help` is quick
    if name in ("Report", "Result"):
        from .parts import results  # deferred: start-up

        return getattr(results, name)
    if name in ("clean_file", "scan_file"):
        from . import pipeline  # deferred: start-up

        return getattr(pipeline, name)
    if name == "clean_paths":
        from . import batch  # deferred: start-up

        return batch.clean_paths
    raise AttributeError(f"module 'photoguard' has no attribute {name!r}")
