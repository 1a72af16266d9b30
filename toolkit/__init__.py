"""edge-distill training side: the Python API of the whole job, and the CLI over it.

One call from Python lists to a deployable, parity-gated student (``pip install
'edge-distill[train,export]'``)::

    from edge_distill.toolkit import Distiller
    Distiller(random_state=0).fit(texts, labels, unlabeled_texts).export("student.onnx")

or one typed function per stage (:mod:`edge_distill.toolkit.api`): ``train_baseline``,
``train_teacher``, ``label_transfer_set``, ``distill_student``, ``export_student_onnx``,
``export_teacher_onnx``, ``evaluate_models``, ``build_run_cascade``, ``run_benchmark``,
``write_run_report``, and
``run_pipeline`` for all of them with a stage cache. Importing this package is cheap: the names
are loaded on first use, and heavy dependencies (torch, transformers, scikit-learn, onnx) only
by the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module that defines it (loaded on first access)
_EXPORTS = {
    "Distiller": "distiller",
    "distill": "distiller",
    "DataOptions": "options",
    "LabelOptions": "options",
    "TeacherExportOptions": "options",
    "TrainConfig": "teacher.train",
    "StudentConfig": "student.distill",
    "RunConfig": "pipeline",
    "RunResult": "pipeline",
    "run_pipeline": "pipeline",
    **{
        name: "api"
        for name in (
            "BaselineResult",
            "BenchmarkResult",
            "CascadeResult",
            "EvaluationResult",
            "LabelResult",
            "MergeResult",
            "ReportResult",
            "StudentExportResult",
            "StudentResult",
            "TeacherExportResult",
            "TeacherResult",
            "build_run_cascade",
            "distill_student",
            "evaluate_models",
            "export_student_onnx",
            "export_teacher_onnx",
            "label_transfer_set",
            "merge_logits",
            "run_benchmark",
            "train_baseline",
            "train_teacher",
            "write_run_report",
        )
    },
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
