"""The student's levers, measured on a finished run: validation and test accuracy of each variant.

Each variant changes one thing against the defaults (soft objective, 1-2-grams, min_df 2, C = 30,
T = 1, the teacher's logits of the run's transfer texts, no gold labels). Validation accuracy is
what a choice may look at; test accuracy is shown to check it, never to choose. Example::

    python -m edge_distill.toolkit.student.levers --run runs/emotion
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import edge_distill
from edge_distill.toolkit.logits import load_logits
from edge_distill.toolkit.options import DEFAULT_C
from edge_distill.toolkit.student.distill import StudentConfig, fit_student
from edge_distill.toolkit.transfer import recorded_options, transfer_of

DEFAULTS: dict[str, Any] = {"ngram_range": (1, 2), "min_df": 2, "C": DEFAULT_C, "temperature": 1.0, "gold": 0.0}
#: one change each against DEFAULTS ("labeled_as_transfer": the labeled texts join with the teacher's logits)
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "1-3-grams": {"ngram_range": (1, 3)},
    "unigrams": {"ngram_range": (1, 1)},
    "C = 10": {"C": 10.0},
    "T = 2": {"temperature": 2.0},
    "gold weight 1": {"gold": 1.0},
    "gold weight 3": {"gold": 3.0},
    "labeled texts as transfer texts": {"labeled_as_transfer": True},
}


def measure(run: Path, variants: dict[str, dict[str, Any]] = VARIANTS) -> list[dict[str, Any]]:
    """One row per variant: its settings, validation and test accuracy, agreement with the teacher on test."""
    table = load_logits(run / "logits")
    splits = recorded_options(run / "logits").load()
    transfer, logits = transfer_of(splits.unlabeled, table, exact=True)
    teacher = edge_distill.load(run / "teacher.onnx")
    lab, val, test = splits.labeled, splits.validation, splits.test
    lab_logits, test_teacher = teacher.logits(list(lab.texts)), teacher.logits(list(test.texts)).argmax(1)
    rows = []
    for name, change in variants.items():
        v = {**DEFAULTS, **change}
        texts, targets = list(transfer.texts), np.asarray(logits, np.float64)
        if v.get("labeled_as_transfer"):
            texts, targets = texts + list(lab.texts), np.vstack([targets, lab_logits])
        config = StudentConfig(
            objective="soft",
            C=v["C"],
            temperature=v["temperature"],
            features={"ngram_range": v["ngram_range"], "min_df": v["min_df"]},
            with_gold=bool(v["gold"]),
            gold_weight=v["gold"] or 1.0,
        )
        model = fit_student(texts, targets, lab.label_names, config, gold_texts=lab.texts, gold_labels=lab.labels).model
        pv, pt = (model.pipeline().predict_proba(list(c.texts)).argmax(1) for c in (val, test))
        rows.append(
            {
                "variant": name,
                "validation_accuracy": float(np.mean(pv == val.labels)),
                "test_accuracy": float(np.mean(pt == test.labels)),
                "test_agreement_with_teacher": float(np.mean(pt == test_teacher)),
                "n_features": model.n_features,
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, type=Path, help="a finished 'edge-distill run' folder")
    args = p.parse_args(argv)
    rows = measure(args.run)
    print("| variant | validation | test | agrees with teacher (test) | n-grams |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['variant']} | {r['validation_accuracy']:.4f} | {r['test_accuracy']:.4f} | "
            f"{r['test_agreement_with_teacher']:.4f} | {r['n_features']:,} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
