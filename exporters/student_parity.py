"""The student's parity gate: the ONNX graph against its scikit-learn pipeline, on hard texts.

The built-in adversarial set covers what breaks text pipelines (case rules outside ASCII,
scripts without spaces, emoji, NUL, lone surrogates, combining marks, right-to-left text,
HTML line breaks in odd spellings, empty and whitespace-only rows, a 1 MB text); the caller
adds real texts. Probabilities must agree within ``tol`` and labels exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_distill.exporters.adversarial import ADVERSARIAL

TOLERANCE = 1e-6
BATCH = 256


def adversarial_texts(vocabulary: Sequence[str] = (), seed: int = 0) -> list[str]:
    """The built-in set, plus texts made of the model's own n-grams in odd case and spacing
    (so repeated features, bigrams and unknown words all occur) and one 1 MB text."""
    rng = np.random.default_rng(seed)
    out = list(ADVERSARIAL)
    if len(vocabulary):
        picks = [vocabulary[i] for i in rng.integers(0, len(vocabulary), 4000)]
        seps = [" ", "  ", "\n", ", ", "<br />", "—", "_", "'", "\x00", "İ", "😀"]
        for j in range(20):
            chunk = picks[j * 100 : (j + 1) * 100]
            out.append("".join(w.upper() if k % 3 == 0 else w + seps[k % len(seps)] for k, w in enumerate(chunk)))
        big = " ".join(picks)
        out.append((big + " ΣΑΣ İ 日本 😀 <br />") * (1_000_000 // (len(big) + 20) + 1))
    else:
        out.append(("Movie GREAT bad İ ΣΑΣ 日本 😀 <br /> " * 40000)[:1_000_000])
    return out


@dataclass(frozen=True)
class ParityReport:
    """What the gate measured."""

    texts: int
    max_abs_diff: float
    label_agreement: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance and self.label_agreement == 1.0

    def as_dict(self) -> dict:
        return {
            "texts": self.texts,
            "max_abs_diff": self.max_abs_diff,
            "label_agreement": self.label_agreement,
            "tolerance": self.tolerance,
        }


def measure_parity(classifier, pipeline, texts: Sequence[str], tol: float = TOLERANCE) -> ParityReport:
    """Compare a runtime ``StudentClassifier`` with the scikit-learn ``pipeline`` on ``texts``."""
    worst, agree = 0.0, 0
    for start in range(0, len(texts), BATCH):
        batch = list(texts[start : start + BATCH])
        labels, proba = classifier.predict_with_proba(batch)
        features = pipeline[:-1].transform(batch)  # once for both reference outputs
        ref = pipeline[-1].predict_proba(features)
        diff = np.abs(proba.astype(np.float64) - ref)
        worst = max(worst, float(np.nan_to_num(diff, nan=np.inf).max()))
        ids = [classifier.labels.index(x) for x in labels]
        agree += int((np.asarray(ids) == pipeline[-1].predict(features)).sum())
    return ParityReport(len(texts), worst, agree / max(len(texts), 1), tol)
