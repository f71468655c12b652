"""How many threads the codecs of one video may use.

The batch gives each worker its share of the cores and tells OpenCV so (``detection.use_cores``:
one each when there are as many files as cores, all of them for a single video). The codecs
follow the same share, so ``-j N`` keeps meaning N cores.
"""

from __future__ import annotations


def share() -> int:
    import cv2  # deferred: start-up (OpenCV is loaded only by the work that uses it)

    return max(1, cv2.getNumThreads())


def decoding(stream):
    """``stream`` set up to decode on this process's share of the cores."""
    stream.thread_type = "AUTO"
    stream.codec_context.thread_count = share()
    return stream
