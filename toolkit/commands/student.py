"""Distill the teacher's logits into a TF-IDF + logistic-regression student.

Use the same data arguments and seed as 'teacher label', so the transfer texts match the
logits' ids. The student is written as plain data to DIR/student/ (weights.npz + student.json)
with its test metrics; 'edge-distill export student DIR' turns it into one ONNX file.

objectives:
  soft   cross-entropy against the teacher's softmax at temperature T (default)
  logit  ridge regression on the teacher's logits, read as a logistic model
  hard   logistic regression on the teacher's argmax
  --with-gold adds the labeled texts with their true labels; --tune picks C (and T) by accuracy
  on labeled texts held out from training (never on the test split).

budgets (prune the n-grams that matter least to the fitted model, then refit):
  --max-features 100000     keep at most this many n-grams
  --max-bytes 5MB           keep the exported student.onnx under this size

--recipe seed reproduces the seed notebook (CountVectorizer 1-3-grams + LinearRegression on the
logit difference); it is a reference and cannot be exported.
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.commands.common import add_data_arguments, add_json, emit, load_splits_from_args, split_record

HELP = "distill teacher logits into a TF-IDF + logistic-regression student"
HELDOUT_FRACTION = 0.3  # of the labeled set, for --tune together with --with-gold


def _bytes(text: str) -> int:
    units = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "b": 1}
    t = text.strip().lower().replace("_", "")
    for unit, mult in sorted(units.items(), key=lambda u: -len(u[0])):
        if t.endswith(unit):
            t, scale = t[: -len(unit)], mult
            break
    else:
        scale = 1
    try:
        value = float(t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 5MB or 800000, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return int(value)


def _ngrams(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX such as 1,2, got {text!r}") from None
    if not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"expected 1 <= MIN <= MAX, got {text!r}")
    return lo, hi


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Logits, data, objective, features and budget."""
    p.add_argument("--logits", required=True, metavar="DIR", help="DIR/logits (or the logits .npz) of 'teacher label'")
    add_data_arguments(p, unlabeled=None, test=1000)
    p.add_argument("--out", required=True, metavar="DIR", help="run folder; the student goes to DIR/student/")
    p.add_argument("--recipe", choices=("tfidf", "seed"), default="tfidf", help="tfidf (default) or seed")
    g = p.add_argument_group("objective")
    g.add_argument("--objective", choices=("soft", "logit", "hard"), default="soft", help="(default: %(default)s)")
    g.add_argument("--C", dest="C", type=float, default=None, help="inverse regularisation strength (default: 30)")
    g.add_argument("--temperature", type=float, default=None, help="softmax temperature of the teacher (default: 1)")
    g.add_argument("--with-gold", action="store_true", help="add the labeled texts with their true labels")
    g.add_argument("--gold-weight", type=float, default=1.0, help="sample weight of a gold row (default: 1)")
    g.add_argument("--tune", action="store_true", help="choose C and T on labeled texts held out from training")
    f = p.add_argument_group("features")
    f.add_argument("--ngram-range", type=_ngrams, default=(1, 2), metavar="MIN,MAX", help="word n-grams (default: 1,2)")
    f.add_argument("--min-df", type=int, default=2, help="drop n-grams in fewer texts (default: %(default)s)")
    f.add_argument("--no-sublinear-tf", dest="sublinear_tf", action="store_false", help="raw term counts")
    b = p.add_argument_group("budget")
    b.add_argument("--max-features", type=int, default=None, metavar="N", help="keep the N most important n-grams")
    b.add_argument("--max-bytes", type=_bytes, default=None, metavar="SIZE", help="keep student.onnx under SIZE")
    add_json(p)


def _config(args: argparse.Namespace):
    """The StudentConfig the arguments describe (bad values are a DataError)."""
    from edge_distill.toolkit.data import DataError
    from edge_distill.toolkit.student import StudentConfig

    given = {k: v for k, v in (("C", args.C), ("temperature", args.temperature)) if v is not None}
    try:
        return StudentConfig(
            objective=args.objective,
            with_gold=args.with_gold,
            gold_weight=args.gold_weight,
            features={"ngram_range": args.ngram_range, "min_df": args.min_df, "sublinear_tf": args.sublinear_tf},
            max_features=args.max_features,
            max_bytes=args.max_bytes,
            random_state=args.seed,
            **given,
        )
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def _gold_and_dev(args: argparse.Namespace, labeled):
    """Labeled rows for --with-gold, and the held-out dev set for --tune (None without it).

    Without --with-gold the whole labeled set is unused by training and is the dev set; with
    it, a seeded HELDOUT_FRACTION of it is held out for tuning.
    """
    import numpy as np

    from edge_distill.toolkit.data import DataError

    gold_idx, dev = np.arange(len(labeled)), None
    if args.tune:
        if not len(labeled) or not labeled.is_labeled:
            raise DataError("--tune needs labeled texts held out from training (--labeled N)")
        dev_idx = gold_idx
        if args.with_gold:
            order = np.random.default_rng(args.seed).permutation(len(labeled))
            cut = int(len(labeled) * HELDOUT_FRACTION)
            dev_idx, gold_idx = np.sort(order[:cut]), np.sort(order[cut:])
        dev = ([labeled.texts[i] for i in dev_idx], labeled.labels[dev_idx])
    return ([labeled.texts[i] for i in gold_idx], labeled.labels[gold_idx]), dev


def _human(args: argparse.Namespace, model, metrics: dict, unpruned: dict, folder) -> str:
    obj = model.info.get("objective", {})
    text = f"{args.recipe} student" + (f" ({obj['name']}, C={obj['C']:g}, T={obj['temperature']:g})" if obj else "")
    text += f": {model.n_features:,} n-grams"
    if "test" in metrics:
        m = metrics["test"]
        text += f"; test accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} (n={m['n']:,})"
    if "test" in unpruned:
        text += (
            f"\nunpruned: {unpruned['n_features']:,} n-grams (~{unpruned['estimated_bytes'] / 1e6:.2f} MB), "
            f"test accuracy {unpruned['test']['accuracy']:.4f}"
        )
    return text + f"\nsaved to {folder}"


def run(args: argparse.Namespace) -> int:
    """Draw the splits, look up the logits, fit, evaluate on the test split, save."""
    from edge_distill.toolkit.data import DataError
    from edge_distill.toolkit.logits import LogitsError, load_logits
    from edge_distill.toolkit.student import evaluate, fit_student, save_student
    from edge_distill.toolkit.student.prune import estimated_onnx_bytes

    splits = load_splits_from_args(args)
    try:
        table = load_logits(args.logits)
        logits = table.lookup(splits.unlabeled.ids)
    except LogitsError as exc:
        raise DataError(str(exc)) from exc
    names = splits.unlabeled.label_names
    if table.label_names != names:
        raise DataError(f"the logits' classes {list(table.label_names)} differ from the data's {list(names)}")
    texts, test = splits.unlabeled.texts, splits.test
    unpruned, trials = {}, []
    if args.recipe == "seed":
        from edge_distill.toolkit.student.seed import fit_seed

        model = fit_seed(texts, logits, names)
    else:
        config = _config(args)
        (gold_texts, gold_labels), dev = _gold_and_dev(args, splits.labeled)
        fit = fit_student(texts, logits, names, config, gold_texts=gold_texts, gold_labels=gold_labels, dev=dev)
        model, unpruned, trials = fit.model, fit.unpruned or {}, fit.tuning
    metrics = {}
    if len(test) and test.is_labeled:
        metrics["test"] = evaluate(model.pipeline().predict_proba(test.texts), test.labels)
        if "model" in unpruned:
            unpruned["test"] = evaluate(unpruned.pop("model").pipeline().predict_proba(test.texts), test.labels)
    sizes = {**splits.summary(), "transfer": len(texts)}
    record = split_record(args, names)
    model.info.update({"sizes": {**sizes, "n_features": model.n_features}, "metrics": metrics, "data": record})
    if trials:
        model.info["tuning"] = trials
    folder = save_student(model, args.out)
    result = {
        "recipe": args.recipe,
        "sizes": sizes,
        "student": str(folder),
        "metrics": metrics,
        "objective": model.info.get("objective", {}),
        "n_features": model.n_features,
        "tuning": trials,
    }
    if model.recipe == "tfidf":
        result["estimated_bytes"] = estimated_onnx_bytes(model.vocabulary, model.coef.shape[0])
    if unpruned:
        result["unpruned"] = unpruned
    emit(args, result, _human(args, model, metrics, unpruned, folder))
    return 0
