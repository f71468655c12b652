"""onnxruntime, the engine that runs CenterFace: one session per model file per process.

A session serves every photo and every tile shape the process sees (CenterFace's input is
dynamic), so a worker builds it once (~35 ms) and per-call overhead stays small for callers
that detect frame after frame. It runs on the worker's share of the cores (``use_threads``:
one when a batch has as many files as cores, ``-j N`` meaning N cores) and does not spin
while idle.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from .model_file import checked_model, engine_error

_sessions: dict = {}
#: threads a session built from now on runs on
_threads = 1


def use_threads(count: int) -> None:
    """Sessions built from now on run on ``count`` threads. With fewer files than cores a
    worker gets several (a single video's detection pass, the bottleneck of its clean, took
    21.1 and 22.9 s on 2 threads against 23.8 and 25.1 s on 1 for a 12-s 1080p clip)."""
    global _threads
    _threads = max(1, count)


def import_onnxruntime():
    """The onnxruntime module, or ModelError saying how to get it."""
    return _engine("onnxruntime", "the onnxruntime engine", "pip install onnxruntime")


def import_opencv():
    """The cv2 module (Haar cascades, BlazeFace's TFLite reader), or ModelError saying how to get it."""
    return _engine("cv2", "OpenCV", "pip install 'opencv-python-headless<5'")


def _engine(module: str, what: str, fix: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise engine_error(f"{what} cannot be loaded ({exc})", fix) from exc


def session(path: Path, sha256: str):
    """The process's session for the model file at ``path`` (checked against ``sha256``)."""
    key = (Path(path), sha256, _threads)
    if key not in _sessions:
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # all optimisations (the blocked-layout convolutions are 2x faster than without);
        # no memory pattern: it is planned per input shape, and shapes vary by photo
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_mem_pattern = False
        options.log_severity_level = 3  # errors only: nothing on a user's terminal
        model = checked_model(Path(path), sha256)
        try:
            # from the file, not from bytes in memory: 10 MB less held by every worker
            _sessions[key] = ort.InferenceSession(str(model), options,
                                                  providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime's errors share no base class
            # the file's hash was right: this onnxruntime cannot run it
            raise engine_error(f"onnxruntime {ort.__version__} cannot load the face model {path} ({exc})",
                               "pip install --upgrade onnxruntime", path) from exc
    return _sessions[key]


def release_memory() -> None:
    """Give the sessions' working memory back to the system.

    onnxruntime keeps the memory of its biggest run (about 100-190 bytes per input pixel) for
    the next one. A photo's clean needs that memory for decoding and encoding the full image
    once detection is done, so the pipeline calls this between the two; a caller detecting
    frame after frame does not, and keeps its memory warm.
    """
    for active in _sessions.values():
        ort = import_onnxruntime()
        options = ort.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        # the arena is shrunk at the end of a run: a tiny one costs well under a millisecond
        name = active.get_inputs()[0].name
        active.run(None, {name: np.zeros((1, 3, 32, 32), np.float32)}, options)
