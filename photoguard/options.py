"""One frozen set of options shared by the CLI and the library API."""

from __future__ import annotations

from dataclasses import dataclass

DETECTORS = ("centerface", "haar")
MODES = ("blur", "pixelate", "fill")
OUTPUT_FORMATS = ("keep", "jpeg", "png", "webp")


@dataclass(frozen=True)
class Options:
    detector: str = "centerface"
    #: score cut for detections; None means the engine's measured default
    threshold: float | None = None
    thorough: bool = False
    #: False strips metadata only
    faces: bool = True
    mode: str = "blur"
    #: the mask is this many times the face box (covers hair and ears)
    mask_scale: float = 1.4
    output_format: str = "keep"
    overwrite: bool = False
    #: refuse images that declare more pixels than this (decompression bombs)
    max_pixels: int = 200_000_000
    #: give up on a file that takes longer than this many seconds (0: no limit)
    max_seconds: float = 300.0
    #: a parent's corrections (regions.Corrections): faces to add and detections to keep visible
    regions: object = None
    #: videos keep their sound (voices identify children too: --no-audio drops it)
    audio: bool = True
    #: the video of a Motion Photo becomes a cleaned clip of its own, next to the still
    keep_motion: bool = False
    #: refuse videos longer than this many seconds (0: no limit)
    max_duration: float = 600.0

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"unknown output format {self.output_format!r}")
        if self.mask_scale < 1.0:
            raise ValueError("mask_scale must be at least 1.0")
