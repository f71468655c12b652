#!/usr/bin/env python3
"""Make an int8 CenterFace from the shipped float model: static QDQ quantisation, per channel.

    pip install onnx            # a tools-only dependency, not the product's
    python tools/quantize_centerface.py [--method minmax|percentile|entropy] [--out PATH]

1. checks the float model (photoguard/parts/detect/models/centerface.onnx, made by
   tools/convert_centerface.py) against photoguard's recorded hash;
2. raises its opset from 9 to 13 (per-channel QuantizeLinear needs 13) and folds the batch
   norms into the convolutions (onnxruntime's quant_pre_process);
3. calibrates activation ranges offline on the photos in sample_images/ (public-domain and
   CC0 photos, see sample_images/README.md: no research-only data), each at several sizes so
   that faces appear at the sizes the detector sees them, and writes a QDQ model: weights
   int8 per output channel, activations uint8 per tensor; --keep-float leaves chosen
   convolutions in float.

The result's SHA-256 is printed. This is an experiment's tool (see the measured figures in
photoguard/parts/detect/centerface.py): photoguard ships the int8 model only where it measured
fast enough and accurate enough.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoguard.parts.detect import centerface  # noqa: E402

SAMPLES = REPO / "sample_images"
#: longest side of each calibration copy, so that faces appear at the sizes the detector sees
SIDES = (320, 640, 960, 1280)
#: every calibration input has this shape (the histogram methods need one): a copy larger
#: than this is cut at its centre, a smaller one padded with black as the detector pads
CANVAS = 640


def calibration_inputs() -> list[np.ndarray]:
    """The sample photos, upright, at each of SIDES, on a CANVAS x CANVAS input."""
    blobs = []
    for path in sorted(SAMPLES.glob("*.jpg")):
        photo = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        for side in SIDES:
            f = side / max(photo.size)
            image = np.asarray(photo.resize((round(photo.width * f), round(photo.height * f)), Image.BICUBIC))
            h, w = image.shape[:2]
            top, left = max(0, (h - CANVAS) // 2), max(0, (w - CANVAS) // 2)
            image = image[top:top + CANVAS, left:left + CANVAS]
            canvas = np.zeros((CANVAS, CANVAS, 3), np.float32)
            canvas[:image.shape[0], :image.shape[1]] = image
            blobs.append(np.ascontiguousarray(canvas.transpose(2, 0, 1)[None]))
    return blobs


def float_nodes(model, keep: str) -> list[str]:
    """Names of the nodes left in float: "first" the first convolution (it sees raw pixels),
    "heads" the convolutions that make the outputs (the scores and box sizes)."""
    convs = [node for node in model.graph.node if node.op_type in ("Conv", "ConvTranspose")]
    outputs = {out.name for out in model.graph.output}
    producers = {node.output[0]: node for node in model.graph.node}
    names = []
    if "first" in keep:
        names.append(convs[0].name)
    if "heads" in keep:
        for name in outputs:
            node = producers[name]
            while node.op_type not in ("Conv", "ConvTranspose"):  # the heatmap's Sigmoid
                node = producers[node.input[0]]
            names.append(node.name)
    return names


def quantize(source: Path, out: Path, method: str, keep: str = "") -> None:
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.inputs = iter(calibration_inputs())

        def get_next(self):
            blob = next(self.inputs, None)
            return None if blob is None else {"input.1": blob}

    with tempfile.TemporaryDirectory() as tmp:
        raised, prepared = Path(tmp) / "opset13.onnx", Path(tmp) / "prepared.onnx"
        onnx.save(version_converter.convert_version(onnx.load(str(source)), 13), str(raised))
        quant_pre_process(str(raised), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        for index, node in enumerate(model.graph.node):  # names, so that nodes can be excluded
            node.name = node.name or f"{node.op_type}_{index}"
        onnx.save(model, str(prepared))
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method={"minmax": CalibrationMethod.MinMax,
                                          "percentile": CalibrationMethod.Percentile,
                                          "entropy": CalibrationMethod.Entropy}[method],
                        nodes_to_exclude=float_nodes(model, keep))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=["minmax", "percentile", "entropy"], default="minmax")
    parser.add_argument("--keep-float", default="", help="comma-separated: first, heads (see float_nodes)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    source = centerface.MODEL_PATH
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != centerface.MODEL_SHA256:
        print(f"{source}: sha256 {digest}, expected {centerface.MODEL_SHA256}", file=sys.stderr)
        return 1
    quantize(source, args.out, args.method, args.keep_float)
    print(f"float {source}: sha256 {digest}")
    print(f"int8  {args.out}: sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
