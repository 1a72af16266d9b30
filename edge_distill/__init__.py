"""edge-distill: distill a transformer teacher into a TF-IDF + logistic-regression student,
export both to ONNX, and classify text on any CPU.

``import edge_distill`` is light (numpy, onnxruntime, tokenizers): it is the runtime.

>>> import edge_distill
>>> clf = edge_distill.load("student.onnx")        # doctest: +SKIP
>>> clf.predict(["A wonderful film."])             # doctest: +SKIP

Training lives in :mod:`edge_distill.toolkit` (``pip install 'edge-distill[train,export]'``),
ONNX export in :mod:`edge_distill.exporters`, benchmarks in :mod:`edge_distill.benchmarks`.
"""

from edge_distill.runtime import Classifier, load
from edge_distill.runtime.errors import (
    ArtifactError,
    DataError,
    EdgeDistillError,
    MissingExtraError,
    ParityError,
)

__version__ = "0.9.0"

__all__ = [
    "ArtifactError",
    "Classifier",
    "DataError",
    "EdgeDistillError",
    "MissingExtraError",
    "ParityError",
    "__version__",
    "load",
]
