"""Labeled texts the teacher never trained on, for the export's int8 gate and for model choice.

Redraws the splits exactly as training did (from the ``data`` block of ``training.json``) and
returns labeled texts of the training pool in none of the labeled, test and validation sets
(falling back to the validation set when none is left). Never the test split, so no choice
is tuned on it. A caller that has read the data already passes it as ``dataset`` (every split
as :func:`toolkit.data.load_dataset` returns it) and the sets drawn from it as ``splits``, so
the source is read and drawn once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_distill.toolkit.data import Corpus, DataError, Splits, dedup_key, load_dataset, make_splits, split_roles


def _dataset(data: dict[str, Any], source: str, dataset: Mapping[str, Corpus] | None = None) -> dict[str, Corpus]:
    """Every split of the data a training record describes: ``dataset`` where the caller read it, else
    read as the record says."""
    if dataset is not None:
        return dict(dataset)
    names = data.get("label_names")
    return load_dataset(
        source,
        text_field=data.get("text_field", "text"),
        label_field=data.get("label_field", "label"),
        label_names=tuple(names) if names else None,
    )


def heldout_texts(
    data: dict[str, Any],
    n: int,
    seed: int = 1234,
    source: str | None = None,
    dataset: Mapping[str, Corpus] | None = None,
    splits: Splits | None = None,
) -> Corpus:
    """Up to ``n`` labeled texts outside the labeled, test and validation sets (seeded draw).

    Where that leaves nothing (e.g. all of a validation split is the validation set), the
    validation set itself is used: it is held out from fine-tuning and is not the test set.
    ``splits``: the sets the record draws, where the caller drew them from ``dataset`` already.
    """
    src = source or (data or {}).get("data")
    if not data or not src:
        raise DataError("the teacher's training.json records no data source; pass --data to the export")
    dataset = _dataset(data, src, dataset)
    splits = splits or make_splits(
        dataset,
        n_labeled=data.get("labeled"),
        n_unlabeled=0,
        n_test=data.get("test"),
        seed=data.get("seed", 0),
        stratify=data.get("stratify", True),
        test_split=data.get("test_split"),
        n_validation=data.get("validation"),
    )
    roles = split_roles(dataset, data.get("test_split"))
    pool = dataset[roles.train]
    used = {dedup_key(t) for t in splits.labeled.texts + splits.test.texts + splits.validation.texts}
    free = [i for i in range(len(pool)) if dedup_key(pool.texts[i]) not in used]
    if not free:
        if len(splits.validation):
            return splits.validation.take(np.arange(min(n, len(splits.validation))))
        raise DataError(f"{src}: no labeled texts left outside the labeled and test sets")
    pick = np.random.default_rng(seed).permutation(np.asarray(free, np.int64))[:n]
    return pool.take(np.sort(pick))


def _calibration_share(available: int, n_calibration: int, n_other: int) -> int:
    """How many of ``available`` texts calibrate: all asked if there are enough, else at most a third."""
    return n_calibration if available >= n_calibration + n_other else min(n_calibration, available // 3)


def heldout_gate_sets(
    data: dict[str, Any],
    n_check: int,
    n_calibration: int,
    seed: int = 1234,
    source: str | None = None,
    dataset: Mapping[str, Corpus] | None = None,
    splits: Splits | None = None,
) -> tuple[Corpus, Corpus]:
    """Two disjoint held-out labeled draws: the int8 gate's texts and the calibration texts.

    The calibration texts choose which nodes int8 keeps in fp32; the gate then decides once on
    texts that took no part in that choice. Where the pool is short, the calibration gets at
    most a third of it.
    """
    both = heldout_texts(data, n_check + n_calibration, seed, source, dataset, splits)
    order = np.random.default_rng(seed + 1).permutation(len(both))
    n_cal = _calibration_share(len(both), n_calibration, n_check)
    return both.take(np.sort(order[n_cal:])), both.take(np.sort(order[:n_cal]))


def unlabeled_texts(
    data: dict[str, Any],
    n: int,
    seed: int = 1234,
    source: str | None = None,
    dataset: Mapping[str, Corpus] | None = None,
) -> list[str]:
    """Up to ``n`` texts of the dataset's unlabeled splits, in a seeded random order; empty where it has none.

    For label agreement between two versions of the teacher, which needs no labels.
    """
    src = source or (data or {}).get("data")
    if not data or not src or n <= 0:
        return []
    dataset = _dataset(data, src, dataset)
    roles = split_roles(dataset, data.get("test_split"))
    texts = [t for name in roles.unlabeled for t in dataset[name].texts]
    return [texts[i] for i in np.random.default_rng(seed).permutation(len(texts))[:n]]


@dataclass(frozen=True)
class GateTexts:
    """The int8 export's texts: labeled gate reviews, calibration texts, extra agreement texts (all disjoint)."""

    check: Corpus
    calibration: list[str]
    agreement: list[str]


def int8_gate_texts(
    data: dict[str, Any],
    n_check: int,
    n_calibration: int,
    n_agreement: int,
    seed: int = 1234,
    source: str | None = None,
    dataset: Mapping[str, Corpus] | None = None,
    splits: Splits | None = None,
) -> GateTexts:
    """The texts of :func:`exporters.teacher.export_teacher`'s int8 gate, none of them test texts.

    Calibration and extra agreement texts need no labels: they come from the unlabeled splits
    (disjoint from each other), so the labeled pool is left to the gate's accuracy check. A
    dataset without an unlabeled split calibrates on labeled held-out texts instead, and its
    agreement texts are further held-out rows (all three sets disjoint).
    """
    if dataset is None and (source or (data or {}).get("data")):
        dataset = _dataset(data, source or data["data"])  # read once for the three draws
    pool = unlabeled_texts(data, n_calibration + n_agreement, seed, source, dataset)
    if not pool:
        check, cal = heldout_gate_sets(data, n_check, n_calibration, seed, source, dataset, splits)
        # the rest of the held-out rows, labels unused, widen the agreement (trec's gate had 1,000
        # texts: 0.991 agreement gave a lower bound of 0.983; on 2,934 it would be 0.987)
        used = set(check.ids) | set(cal.ids)
        more = heldout_texts(data, n_check + n_calibration + n_agreement, seed, source, dataset, splits)
        extra = [t for t, i in zip(more.texts, more.ids, strict=True) if i not in used][:n_agreement]
        return GateTexts(check, cal.texts, extra)
    n_cal = _calibration_share(len(pool), n_calibration, n_agreement)
    check = heldout_texts(data, n_check, seed, source, dataset, splits)
    return GateTexts(check, pool[:n_cal], pool[n_cal : n_cal + n_agreement])
