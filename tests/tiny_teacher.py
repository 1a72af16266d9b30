"""A tiny BERT teacher and tiny data, built in the test: no download, seconds to train.

Shared by the teacher tests and the end-to-end pipeline test.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

POS = ["good", "great", "excellent", "wonderful", "fun", "superb"]
NEG = ["bad", "awful", "boring", "terrible", "dull", "poor"]
FILLER = ["the", "movie", "film", "plot", "actor", "was", "and", "a", "story", "scene", "it", "is", "of", "this"]


def _review(rng: np.random.Generator, label: int) -> str:
    n = int(rng.integers(2, 30))
    words = list(rng.choice(FILLER, n))
    for _ in range(int(rng.integers(2, 5))):
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(POS if label else NEG)))
    text = " ".join(words)
    return text.replace(" and ", " and<br /><br />", 1) if rng.random() < 0.3 else text


def _write_split(path: Path, rows: list[tuple[str, int]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for text, label in rows:
            fh.write(json.dumps({"text": text, "label": label}) + "\n")


def _tiny_tokenizer(vocab: list[str]):
    """A lower-casing WordPiece tokenizer with the BERT template, as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def tiny_checkpoint(path: Path, vocab: list[str], num_labels: int = 2) -> Path:
    """A tiny randomly initialised BERT classifier (seeded) with a WordPiece tokenizer over ``vocab``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    path.mkdir()
    _tiny_tokenizer(vocab).save_pretrained(path)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=num_labels,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(path)
    return path


def build_tiny(root: Path) -> dict[str, Path]:
    """A tiny data folder (train/test/unsup) and a tiny BERT checkpoint with its tokenizer."""
    rng = np.random.default_rng(0)
    data = root / "data"
    data.mkdir()
    for name, n in (("train", 240), ("test", 60)):
        _write_split(data / f"{name}.jsonl.gz", [(_review(rng, i % 2), i % 2) for i in range(n)])
    (data / "classes.txt").write_text("negative\npositive\n", encoding="utf-8")  # line i names class i
    _write_split(data / "unsup.jsonl.gz", [(_review(rng, int(rng.integers(0, 2))), -1) for _ in range(300)])
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *POS, *NEG, *FILLER, "<", ">", "/", "br"]
    ckpt = tiny_checkpoint(root / "tiny-bert", vocab)
    return {"root": root, "data": data, "ckpt": ckpt}


#: the split sizes of a tiny run
TINY_SIZES = ("--labeled", "160", "--unlabeled", "200", "--test", "40")


def tiny_run_argv(tiny: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """``edge-distill run`` arguments for a tiny run on :func:`build_tiny`'s data and teacher (seconds, not minutes)."""
    return [
        "run",
        "--data",
        str(tiny["data"]),
        *TINY_SIZES,
        "--teacher",
        str(tiny["ckpt"]),
        *("--max-length", "24", "--lr", "3e-3", "--epochs", "6", "--batch-size", "8", "--threads", "1"),
        *("--min-df", "1", "--check", "60", "--bench-rounds", "10", "--cold-repeats", "1", "--no-progress"),
        "--out",
        str(out),
        *extra,
    ]
