"""Small synthetic corpora and fitted students shared by the student tests (fast, no real data)."""

from __future__ import annotations

import numpy as np

#: words in several scripts and cases, so features hold non-ASCII n-grams
POSITIVE = ["great", "wonderful", "Superbe", "été", "ΚΑΛΌ", "素晴らしい", "magnífico", "İyi", "love_it", "10_10"]
NEGATIVE = ["awful", "boring", "Nul", "mauvais", "ΚΑΚΌ", "ひどい", "horrível", "Kötü", "waste", "0_10"]
MIXED = ["meh", "average", "ordinaire", "ΜΈΤΡΙΟ", "普通", "regular", "orta", "so_so"]
NEUTRAL = ["film", "movie", "the", "a", "plot", "actors", "ΣΑΣ", "straße", "don't", "it's", "<br />", "😀", "and"]


def synthetic_corpus(n: int, k: int = 2, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``n`` texts, their class ids and teacher-like logits ``[n, k]`` (class k likes word list k)."""
    rng = np.random.default_rng(seed)
    lists = [NEGATIVE, POSITIVE, MIXED][:k] if k <= 3 else None
    assert lists is not None, "k <= 3"
    texts, labels = [], rng.integers(0, k, n)
    for y in labels:
        words = list(rng.choice(NEUTRAL, rng.integers(3, 12)))
        words += list(rng.choice(lists[y], rng.integers(1, 4)))
        if rng.random() < 0.3:
            words += list(rng.choice(lists[(y + 1) % k], 1))
        rng.shuffle(words)
        texts.append(" ".join(words))
    logits = rng.normal(0, 0.5, (n, k))
    logits[np.arange(n), labels] += 2.0
    return texts, labels, logits.astype(np.float32)


def fitted_student(k: int = 2, n: int = 400, objective: str = "soft", **features):
    """A :class:`StudentModel` fitted on the synthetic corpus."""
    from edge_distill.toolkit.student import StudentConfig, fit_student

    texts, _, logits = synthetic_corpus(n, k)
    names = ("negative", "positive", "neutral")[:k]
    config = StudentConfig(objective=objective, C=10.0, features={"min_df": 1, **features})
    return fit_student(texts, logits, names, config).model
