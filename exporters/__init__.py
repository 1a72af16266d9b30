"""ONNX exporters, one per model family, each with a parity gate that fails the export loudly."""

from edge_distill.runtime.extras import require_extra

# once, here: the exporters import onnx (export extra) and the models they check parity against
# (scikit-learn and torch: train extra) at their top
require_extra("export", "ONNX export")
require_extra("train", "ONNX export (parity is checked against the training-side model)")
