"""Student settings chosen per data set by agreement with the teacher on held-out transfer texts."""

from __future__ import annotations

import numpy as np
import pytest

from edge_distill.toolkit.student.selection import SettingsChoice, select_student_settings

WORDS = ("film", "plot", "actor", "scene", "story", "music", "camera", "light", "sound", "edit", "cast", "role")


def _negation_data(n: int = 800, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """The teacher's class depends on word order: "not good" is bad, "good" without "not" is good.

    Unigrams see the same words in both ("not" appears in every text), so only bigrams can follow
    the teacher: a selection that ignores agreement would keep unigrams.
    """
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for _ in range(n):
        filler = list(rng.choice(WORDS, 6))
        good = rng.random() < 0.5
        phrase = ["not", "good"] if not good else ["good", "not"]  # "not" always present
        pos = int(rng.integers(0, len(filler)))
        texts.append(" ".join(filler[:pos] + phrase + filler[pos:]))
        y.append(int(good))
    y = np.asarray(y)
    logits = np.stack([-2.0 * (2 * y - 1), 2.0 * (2 * y - 1)], axis=1) + rng.normal(0, 0.3, (n, 2))
    return texts, logits


def test_chooses_bigrams_when_the_teacher_needs_them() -> None:
    texts, logits = _negation_data()
    grid = {"features": ({"ngram_range": (1, 1), "min_df": 1}, {"ngram_range": (1, 2), "min_df": 1})}
    choice = select_student_settings(texts, logits, ["bad", "good"], grid=grid, random_state=0)
    assert isinstance(choice, SettingsChoice)
    assert tuple(choice.chosen["ngram_range"]) == (1, 2)
    uni = next(r for r in choice.candidates if tuple(r["ngram_range"]) == (1, 1))
    best = max(r["agreement"] for r in choice.candidates)
    assert uni["agreement"] < 0.7 < best  # unigrams cannot tell "not good" from "good not"
    assert choice.n_held_out == 200 and choice.n_fit == 600  # a quarter held out
    assert "held-out transfer texts" in choice.reason and "1-2-grams" in choice.reason
    # every axis was tried: features, every C, the other objectives
    assert {r["C"] for r in choice.candidates} >= {3.0, 10.0, 30.0, 100.0}
    assert {r["objective"] for r in choice.candidates} == {"soft", "hard", "logit"}
    cfg = choice.student_config(with_gold=True)
    assert cfg.features.ngram_range == (1, 2) and cfg.objective == choice.chosen["objective"] and cfg.with_gold
    assert choice.as_dict()["chosen"] == choice.chosen


def test_multiclass_and_deterministic() -> None:
    rng = np.random.default_rng(3)
    topics = [["ball", "goal", "team"], ["vote", "party", "law"], ["chip", "code", "app"]]
    y = rng.integers(0, 3, 450)
    texts = [" ".join(list(rng.choice(topics[c], 3)) + list(rng.choice(WORDS, 4))) for c in y]
    logits = np.eye(3)[y] * 3 + rng.normal(0, 0.5, (450, 3))
    a = select_student_settings(texts, logits, ["sport", "politics", "tech"], random_state=1)
    b = select_student_settings(texts, logits, ["sport", "politics", "tech"], random_state=1)
    assert a.chosen == b.chosen and [r["agreement"] for r in a.candidates] == [r["agreement"] for r in b.candidates]
    assert max(r["agreement"] for r in a.candidates) > 0.95


def test_refuses_mismatched_or_tiny_input() -> None:
    texts, logits = _negation_data(20)
    with pytest.raises(ValueError, match="do not match"):
        select_student_settings(texts, logits[:5], ["a", "b"])
    with pytest.raises(ValueError, match="too few"):
        select_student_settings(texts[:2], logits[:2], ["a", "b"])


def _rare_word_data(n: int, n_words: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Each text holds one of ``n_words`` class words ("sig17": class 17 % 2) among neutral filler: in a
    small sample most class words occur once, so only min_df 1 keeps them; in the whole set, several times.
    Each text also holds a word no other has: n-grams only min_df 1 keeps, at any size."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, n_words, n)
    texts = [" ".join([f"sig{w}", *rng.choice(WORDS, 4), f"once{i}"]) for i, w in enumerate(words)]  # + a one-off
    y = words % 2
    return texts, np.stack([-2.0 * (2 * y - 1), 2.0 * (2 * y - 1)], axis=1) + rng.normal(0, 0.3, (n, 2))


def test_a_min_df_that_only_a_small_sample_needs_is_checked_on_the_whole_set() -> None:
    texts, logits = _rare_word_data(4000, 300)
    grid = {"features": ({"ngram_range": (1, 1), "min_df": 2}, {"ngram_range": (1, 1), "min_df": 1})}
    grid |= {"C": (30.0,), "objective": ()}
    sampled = select_student_settings(texts, logits, ["a", "b"], grid=grid, max_texts=400)
    low, high = (next(r for r in sampled.candidates if r["min_df"] == m) for m in (1, 2))
    assert low["agreement"] >= high["agreement"] + 0.005  # on 300 fitted texts min_df 1 wins...
    whole = sampled.extra["min_df_whole_set"]
    a, b = whole["candidates"]
    assert (a["min_df"], b["min_df"]) == (1, 2) and abs(a["agreement"] - b["agreement"]) < 0.005  # ...not on 3,000
    assert sampled.chosen["min_df"] == 2 == whole["min_df"] and b["n_features"] < a["n_features"]
    assert whole["n_fit"] + whole["n_held_out"] == 4000 and "whole transfer set" in sampled.reason
    assert sampled.reason.startswith("1-grams, min_df 2") and "sample of 400 transfer texts chose" in sampled.reason
    # a sample that is most of the set: no second look
    alone = select_student_settings(texts[:1200], logits[:1200], ["a", "b"], grid=grid, max_texts=400)
    assert "min_df_whole_set" not in alone.extra
