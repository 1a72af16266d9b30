"""Export a fitted student to one self-contained, exact and fast ONNX file.

``export_student`` refuses what it cannot reproduce exactly, checks that onnxruntime's
lowercasing and word class agree with Python on every code point (and that the measured
differences of other onnxruntime clients, :mod:`exporters.platform_ops`, can be evened out by
the graph's word variants), builds the sparse graph (:mod:`exporters.student_graph`), seals
the checksum, loads the bytes through the real runtime
and runs the parity gate (:mod:`exporters.student_parity`). Only then is the file written,
atomically; a failed gate writes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge_distill.exporters.student_graph import UnsupportedSetting, build_student_graph
from edge_distill.exporters.student_parity import TOLERANCE, ParityReport, adversarial_texts, measure_parity
from edge_distill.runtime import schema
from edge_distill.runtime.atomic import atomic_write_bytes
from edge_distill.runtime.base import open_session
from edge_distill.runtime.errors import ParityError
from edge_distill.runtime.extras import require
from edge_distill.runtime.integrity import PLACEHOLDER, seal
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.student.model import StudentModel, model_from_fitted

__all__ = ["ParityError", "UnsupportedSetting", "export_student", "student_from_sklearn"]

NORMS = ("l1", "l2", None)


def _vectorizer_problems(vec) -> list[str]:
    """Why a fitted TfidfVectorizer (or the word part of a WordCharVectorizer) cannot be exported
    exactly (empty when it can)."""
    from edge_distill.toolkit.features import Normalizer, python_class

    vec = getattr(vec, "words", vec)  # a WordCharVectorizer: its character part is exportable by construction
    p = vec.get_params()
    problems = []
    if type(vec).__name__ != "TfidfVectorizer":
        problems.append(f"{type(vec).__name__}: only TfidfVectorizer is exportable")
    if p.get("analyzer") != "word":
        problems.append(
            f"analyzer={p.get('analyzer')!r}: only word n-grams are exportable "
            "(char n-grams and custom analyzers are not)"
        )
    if p.get("tokenizer") is not None:
        problems.append("a custom tokenizer is not exportable")
    if p.get("stop_words") is not None:
        problems.append(
            "stop_words: scikit-learn removes stop words before forming n-grams, which joins "
            "words that were not adjacent; the graph cannot reproduce that"
        )
    if p.get("strip_accents") is not None:
        problems.append(f"strip_accents={p['strip_accents']!r}: accent stripping (NFKD) has no exact ONNX op")
    if not isinstance(p.get("preprocessor"), Normalizer):
        problems.append(
            "the preprocessor must be toolkit.features.Normalizer (use make_vectorizer): "
            "str.lower maps U+0130 to two code points and cannot be matched"
        )
    ranges = getattr(vec, "word_ranges_", None)
    if not ranges:
        problems.append("no word_ranges_ on the vectorizer (use toolkit.features.make_vectorizer)")
    elif p.get("token_pattern") != f"[{python_class(ranges)}]{{2,}}":
        problems.append("token_pattern differs from the word class of word_ranges_; only that pattern is exportable")
    if p.get("input") != "content":
        problems.append(f"input={p.get('input')!r}: only 'content' is exportable")
    if p.get("norm") not in NORMS:
        problems.append(f"norm={p.get('norm')!r}: expected one of {NORMS}")
    if p.get("dtype") is not None and getattr(p["dtype"], "__name__", str(p["dtype"])) != "float64":
        problems.append(f"dtype={p['dtype']}: only float64 features are exported exactly")
    return problems


def student_from_sklearn(vectorizer, classifier, label_names: Sequence[str]) -> StudentModel:
    """The plain-data student of a fitted TfidfVectorizer + LogisticRegression, or
    :class:`UnsupportedSetting` naming every setting that cannot be exported exactly."""
    problems = _vectorizer_problems(vectorizer)
    if type(classifier).__name__ != "LogisticRegression":
        problems.append(f"{type(classifier).__name__}: only LogisticRegression (binary or multinomial) is exportable")
    elif getattr(classifier, "multi_class", "auto") == "ovr" and len(classifier.classes_) > 2:
        problems.append("multi_class='ovr' is not exportable (the graph applies a softmax)")
    if problems:
        raise UnsupportedSetting("cannot export this student exactly: " + "; ".join(problems))
    return model_from_fitted(vectorizer, classifier, label_names)


def check_exportable(model: StudentModel) -> None:
    """Raise :class:`UnsupportedSetting` unless the graph can reproduce ``model`` exactly."""
    from edge_distill.toolkit.features import FEATURE_DEFAULTS

    if model.recipe != "tfidf":
        raise UnsupportedSetting(
            f"the {model.recipe!r} recipe is not exportable: it uses scikit-learn's default analyzer (str.lower, "
            "whose U+0130 rule and \\w class depend on the Python version) and an unbounded linear score; "
            "train with the default recipe to export"
        )
    unknown = set(model.settings) - set(FEATURE_DEFAULTS) - {"lowercase"}
    if unknown:
        raise UnsupportedSetting(f"feature settings {sorted(unknown)} are not exportable")
    if model.settings.get("norm") not in NORMS:
        raise UnsupportedSetting(f"norm={model.settings.get('norm')!r}: expected one of {NORMS}")
    if not model.word_ranges:
        raise UnsupportedSetting("the student has no word ranges (fit it with toolkit.features.make_vectorizer)")
    for name in ("ngram_range", "char_ngram_range"):
        if model.settings.get(name) is not None:
            lo, hi = model.settings[name]
            if not 1 <= lo <= hi:
                raise UnsupportedSetting(f"{name}=({lo}, {hi}): expected 1 <= min <= max")
    if model.n_word_features == 0:
        raise UnsupportedSetting("the student has character n-grams but no word n-gram; the graph needs words")
    if model.n_word_features < model.n_features and model.settings.get("char_ngram_range") is None:
        raise UnsupportedSetting("character n-gram features without a char_ngram_range setting")


def student_metadata(model: StudentModel) -> dict[str, str]:
    """The metadata properties of the artifact (checksum placeholder included)."""
    info = model.info
    features = {**model.settings, "n_features": model.n_features}
    dump = lambda obj: json.dumps(obj, sort_keys=True, ensure_ascii=False)  # noqa: E731
    return {
        schema.KIND: schema.STUDENT,
        schema.LABELS: dump(list(model.label_names)),
        schema.FORMAT_VERSION: schema.FORMAT_VERSIONS[schema.STUDENT],
        schema.OBJECTIVE: dump(info.get("objective", {})),
        schema.FEATURES: dump(features),
        schema.TRAINING: dump(info.get("sizes", {})),
        schema.METRICS: dump(info.get("metrics", {})),
        schema.CHECKSUM: PLACEHOLDER,
    }


def export_bytes(model: StudentModel, *, check_ops: bool = True) -> bytes:
    """The sealed ONNX bytes of ``model`` (refusals and op agreement checks included)."""
    onnx = require("onnx", "the student export")
    check_exportable(model)
    if model.settings.get("lowercase", True):
        from edge_distill.exporters.platform_ops import check_table

        check_table(model.word_ranges)
    if check_ops:
        from edge_distill.exporters.student_checks import check_char_split, check_lowercase, check_word_class

        if model.settings.get("lowercase", True):
            check_lowercase()
        check_word_class(model.word_ranges)
        if model.n_word_features < model.n_features:
            check_char_split()
    proto = build_student_graph(model, student_metadata(model))
    onnx.checker.check_model(proto)
    onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    return seal(proto.SerializeToString())


def export_student(
    model: StudentModel,
    out: str | os.PathLike[str],
    *,
    texts: Sequence[str] = (),
    tol: float = TOLERANCE,
    check_ops: bool = True,
    threads: int | None = None,
) -> dict[str, Any]:
    """Write ``model`` to ``out`` after the parity gate passes on the adversarial set + ``texts``."""
    out = Path(out)
    data = export_bytes(model, check_ops=check_ops)
    sess, meta = open_session(data, str(out), threads=threads)
    classifier = StudentClassifier.from_session(out, sess, meta)
    gate = list(adversarial_texts(model.vocabulary)) + list(texts)
    report: ParityReport = measure_parity(classifier, model.pipeline(), gate, tol)
    if not report.ok:
        raise ParityError(
            f"parity gate failed for {out}: max |Δp| = {report.max_abs_diff:.3g} (tolerance {tol:g}), label "
            f"agreement {report.label_agreement:.4%} over {report.texts} texts; nothing was written"
        )
    atomic_write_bytes(out, data)
    return {"path": str(out), "bytes": len(data), "n_features": model.n_features, "parity": report.as_dict()}
