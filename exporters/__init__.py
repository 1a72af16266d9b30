"""ONNX exporters, one per model family, each with a parity gate that fails the export loudly."""
