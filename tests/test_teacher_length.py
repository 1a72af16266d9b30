"""The teacher's maximum length follows the texts: counted as the encoder counts, rounded, capped."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tokenizer():
    from edge_distill.toolkit.teacher.backbone import DEFAULT_MODEL, load_tokenizer

    return load_tokenizer(DEFAULT_MODEL)


def test_lengths_count_specials_as_the_encoder_does(tokenizer) -> None:
    from edge_distill.runtime.truncation import TeacherEncoder
    from edge_distill.toolkit.teacher.length import token_lengths

    texts = ["short one", "a somewhat longer sentence about nothing at all<br />really", "x " * 300]
    lengths = token_lengths(tokenizer, texts)
    encoder = TeacherEncoder(tokenizer.backend_tokenizer, 4096, "head")
    assert lengths.tolist() == [len(r) for r in encoder.encode(texts)]
    assert lengths[0] == 4  # [CLS] short one [SEP]
    assert lengths[2] == 302  # not truncated


def test_choose_max_length_quantile_rounding_and_caps(tokenizer) -> None:
    from edge_distill.toolkit.teacher.length import choose_max_length, token_lengths

    # 100 texts of 1..100 words ("word" is one token): 3..102 tokens with [CLS] and [SEP]
    texts = [" ".join(["word"] * n) for n in range(1, 101)]
    assert token_lengths(tokenizer, texts).tolist() == list(range(3, 103))
    assert choose_max_length(tokenizer, texts, quantile=1.0) == 104  # 102 rounded up to 8
    assert choose_max_length(tokenizer, texts, quantile=0.5) == 56  # the 50th: 52 tokens
    assert choose_max_length(tokenizer, texts, quantile=1.0, multiple=1) == 102
    assert choose_max_length(tokenizer, texts, quantile=1.0, cap=64) == 64
    assert choose_max_length(tokenizer, texts, quantile=1.0, model_max_length=80) == 80
    long = [" ".join(["word"] * 2000)] * 3
    assert choose_max_length(tokenizer, long) == 512  # the model's own limit (and the default cap)
    assert choose_max_length(tokenizer, long, cap=4096) == 512  # never past the tokenizer's 512
    with pytest.raises(ValueError, match="no texts"):
        choose_max_length(tokenizer, [])


def test_profile_reports_truncated_share(tokenizer) -> None:
    from edge_distill.toolkit.teacher.length import length_profile

    texts = [" ".join(["word"] * n) for n in range(1, 101)]
    prof = length_profile(tokenizer, texts, 52)
    assert prof["max"] == 102 and prof["share_truncated"] == pytest.approx(0.5)
    assert prof["p50"] == int(np.quantile(np.arange(3, 103), 0.5))


def test_epochs_follow_the_length() -> None:
    from edge_distill.runtime.errors import DataError
    from edge_distill.toolkit.options import auto_epochs, parse_epochs
    from edge_distill.toolkit.teacher.train import TrainConfig

    assert auto_epochs(56) == 6 and auto_epochs(128) == 6 and auto_epochs(129) == 3 and auto_epochs(512) == 3
    assert TrainConfig().epochs == "auto" and parse_epochs("AUTO") == "auto" and parse_epochs("4") == 4
    for bad in ("0", "many", "2.5"):
        with pytest.raises(ValueError, match="expected"):
            parse_epochs(bad)
    for bad in (0, "3", None):
        with pytest.raises(DataError, match="epochs must be 'auto' or a whole number >= 1"):
            TrainConfig(epochs=bad).check()
    TrainConfig(epochs=1).check()


@pytest.mark.parametrize("arch", ["bert", "distilbert"])
def test_the_new_head_learns_at_its_own_rate(arch: str) -> None:
    """Every weight outside the pretrained base model (whatever the architecture calls its head) takes
    head_lr; the backbone, its pooler included, takes lr; biases and norms take no weight decay."""
    import transformers

    from edge_distill.runtime.errors import DataError
    from edge_distill.toolkit.teacher.train import TrainConfig, _optimizer

    if arch == "bert":
        cfg = transformers.BertConfig(
            vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        )
        model, heads = transformers.BertForSequenceClassification(cfg), {"classifier.weight", "classifier.bias"}
    else:
        cfg = transformers.DistilBertConfig(vocab_size=30, dim=16, n_layers=1, n_heads=2, hidden_dim=32)
        model = transformers.DistilBertForSequenceClassification(cfg)
        heads = {"pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias"}
    opt = _optimizer(model, TrainConfig(lr=1e-4, head_lr=2e-3, weight_decay=0.01))
    names = {id(p): n for n, p in model.named_parameters()}
    seen = set()
    for group in opt.param_groups:
        for p in group["params"]:
            name = names[id(p)]
            seen.add(name)
            assert group["lr"] == (2e-3 if name in heads else 1e-4), name
            no_decay = p.ndim < 2 or "norm" in name.lower()
            assert group["weight_decay"] == (0.0 if no_decay else 0.01), name
    assert seen == set(names.values())
    with pytest.raises(DataError, match="head_lr > 0"):
        TrainConfig(head_lr=0).check()
