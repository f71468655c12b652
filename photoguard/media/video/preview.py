"""A few frames of a video, side by side in one picture, for the review page (no player needed).

After ``clean --review`` the frames come from the written copy, so the page shows exactly what
was written; before cleaning (``review``) they come from the source with the faces obscured
as the copy will have them. Either way the faces found are outlined where they are in each
frame.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ...options import Options
from ...parts.detect.base import Face
from ...parts.obscure import obscure_in_place
from .geometry import upright
from .source import Source, open_container

#: frames shown per clip, in a grid this many across
FRAMES, ACROSS = 4, 2
#: long side of each frame in the sheet
FRAME_SIDE = 800


def contact_sheet(source: Source, seconds: float, spans: list, obscure: Options | None = None
                  ) -> tuple[Image.Image, list[Face], list[float]]:
    """(sheet, faces outlined in sheet pixels, times shown). ``obscure``: hide the faces in
    the frames first (a source's frames, before cleaning)."""
    times = [seconds * (k + 0.5) / FRAMES for k in range(FRAMES)]
    frames: list[tuple[float, np.ndarray]] = []
    with open_container(source) as container:
        start = last = None
        for frame in container.decode(*container.streams.video[:1]):
            now = float(frame.time or 0.0)
            start = now if start is None else start
            last = (now - start, frame)
            if now - start >= times[len(frames)]:
                frames.append((now - start, _displayed(frame)))
                if len(frames) == FRAMES:
                    break
        if last is not None and len(frames) < FRAMES:  # a clip shorter than it says
            frames += [(last[0], _displayed(last[1]))] * (FRAMES - len(frames))
    if not frames:  # sound only
        return Image.new("RGB", (320, 180), (40, 40, 40)), [], []
    height, width = frames[0][1].shape[:2]
    scale = min(1.0, FRAME_SIDE / max(width, height))
    tile = (max(1, round(width * scale)), max(1, round(height * scale)))
    rows = -(-len(frames) // ACROSS)
    sheet = Image.new("RGB", (tile[0] * ACROSS, tile[1] * rows), (40, 40, 40))
    outlined = []
    for index, (when, pixels) in enumerate(frames):
        faces = [Face(span.box_at(when), span.score) for span in spans if span.start <= when <= span.end]
        if obscure is not None:
            pixels = pixels.copy()
            obscure_in_place(pixels, faces, obscure.mode, obscure.mask_scale, noise=False)
        left, top = (index % ACROSS) * tile[0], (index // ACROSS) * tile[1]
        sheet.paste(Image.fromarray(pixels).resize(tile, Image.Resampling.LANCZOS), (left, top))
        for face in faces:
            x, y, w, h = face.scaled(scale, scale).box
            outlined.append(Face((x + left, y + top, w, h), face.score))
    return sheet, outlined, [when for when, _ in frames]


def _displayed(frame) -> np.ndarray:
    return upright(frame.to_ndarray(format="rgb24"), frame.rotation)
