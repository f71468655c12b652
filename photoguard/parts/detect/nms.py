"""Greedy non-maximum suppression, shared by the engines and by merging thorough passes."""

from __future__ import annotations

import numpy as np

from .base import Face


def nms_indices(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3,
                contain_threshold: float | None = None) -> list[int]:
    """Indices of the boxes kept, best score first.

    ``boxes`` is (N, 4) as x, y, w, h. A box is dropped when its IoU with a kept box reaches
    ``iou_threshold``, or when at least ``contain_threshold`` of its own area lies inside a
    kept box (a part of a face found again, e.g. cut by a tile border); None disables that.
    """
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    scores = np.asarray(scores, float).reshape(-1)
    if len(boxes) == 0:
        return []
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    area = np.maximum(boxes[:, 2], 0) * np.maximum(boxes[:, 3], 0)
    # stable sort so equal scores keep input order (deterministic output)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        drop = iou >= iou_threshold
        if contain_threshold is not None:
            drop |= inter / np.maximum(area[rest], 1e-9) >= contain_threshold
        order = rest[~drop]
    return keep


def nms_faces(faces: list[Face], iou_threshold: float = 0.3,
              contain_threshold: float | None = None) -> list[Face]:
    """The faces that survive NMS, best score first."""
    if not faces:
        return []
    keep = nms_indices(np.array([f.box for f in faces], float),
                       np.array([f.score for f in faces], float),
                       iou_threshold, contain_threshold)
    return [faces[i] for i in keep]


def drop_parts(faces: list[Face], contain_threshold: float) -> list[Face]:
    """The faces without those that have at least ``contain_threshold`` of their area inside
    a bigger face: a mouth or an eye found on its own, which the bigger face's mask covers."""
    if len(faces) < 2:
        return faces
    boxes = np.array([f.box for f in faces], float)
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    area = boxes[:, 2] * boxes[:, 3]
    iw = np.clip(np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]), 0, None)
    ih = np.clip(np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]), 0, None)
    # inside[i, j]: the share of face i's area that lies in face j
    inside = iw * ih / np.maximum(area[:, None], 1e-9)
    part = ((inside >= contain_threshold) & (area[None] > area[:, None])).any(axis=1)
    return [face for face, is_part in zip(faces, part) if not is_part]
