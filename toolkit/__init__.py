"""edge-distill training side: the Python API of the whole job, and the CLI over it.

One call from Python lists to a deployable, parity-gated student (``pip install
'edge-distill[train,export]'``)::

    from edge_distill.toolkit import Distiller
    Distiller(random_state=0).fit(texts, labels, unlabeled_texts).export("student.onnx")

or one typed function per stage, all in :mod:`edge_distill.toolkit.api` (:data:`API` lists them
with their results and settings): ``load_data`` reads a data source once, then
``train_baseline``, ``train_teacher``, ``label_transfer_set``, ``distill_student``,
``export_student_onnx``, ``export_teacher_onnx``, ``evaluate_models``, ``build_cascade``,
``run_benchmark``, ``write_run_report``; and ``run_pipeline`` for all of them with a stage cache.
Importing this package is cheap: the names are loaded on first use, and heavy dependencies
(torch, transformers, scikit-learn, onnx) only by the modules that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

#: the public names of :mod:`edge_distill.toolkit.api` (its ``__all__``, read from here so that
#: importing this package does not load the training stack): stage functions, results, settings
API = (
    "BaselineResult",
    "BenchmarkResult",
    "CascadeResult",
    "DataOptions",
    "EvaluationResult",
    "LabelOptions",
    "LabelResult",
    "LoadedData",
    "MergeResult",
    "ReportResult",
    "StudentConfig",
    "StudentExportResult",
    "StudentResult",
    "TeacherExportOptions",
    "TeacherExportResult",
    "TeacherResult",
    "TrainConfig",
    "build_cascade",
    "cascade_heldout",
    "distill_student",
    "evaluate_models",
    "export_student_onnx",
    "export_teacher_onnx",
    "label_transfer_set",
    "load_data",
    "load_transfer_set",
    "merge_logits",
    "run_benchmark",
    "student_gate_texts",
    "teacher_gate_texts",
    "train_baseline",
    "train_teacher",
    "write_run_report",
)

#: public name -> the module that defines it (loaded on first access): the API, the estimator, the run
_EXPORTS = {
    **dict.fromkeys(API, "api"),
    "Distiller": "distiller",
    "RunConfig": "pipeline",
    "RunResult": "pipeline",
    "run_pipeline": "pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
