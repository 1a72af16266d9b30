"""Unit tests of the shared teacher text encoding (runtime/truncation.py): no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from edge_distill.runtime.truncation import TeacherEncoder, length_sorted_batches, truncate_ids

tokenizers = pytest.importorskip("tokenizers")

WORDS = ["good", "bad", "movie", "film", "the", "a", "was", "great", "awful", "plot"]


def tiny_tokenizer():
    """A lower-casing WordPiece tokenizer with a BERT template, built in memory."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    return tok


def test_head_keeps_the_start():
    assert truncate_ids(list(range(10)), 4, "head") == [0, 1, 2, 3]


def test_head_tail_keeps_a_quarter_start_and_the_end():
    assert truncate_ids(list(range(20)), 8, "head+tail") == [0, 1, 14, 15, 16, 17, 18, 19]
    assert truncate_ids(list(range(5)), 8, "head+tail") == [0, 1, 2, 3, 4]


def test_bad_strategy_is_refused():
    with pytest.raises(ValueError, match="strategy"):
        truncate_ids([1, 2], 1, "middle")


def test_encoder_wraps_specials_and_respects_max_length():
    enc = TeacherEncoder(tiny_tokenizer(), max_length=6, strategy="head+tail")
    assert enc.prefix == [2] and enc.suffix == [3] and enc.budget == 4
    rows = enc.encode(["good movie", "the film was great great great awful", ""])
    assert rows[0] == [2, 5, 7, 3]
    assert len(rows[1]) == 6 and rows[1][0] == 2 and rows[1][-1] == 3
    assert rows[1][-2] == 13  # head+tail keeps the last word ("awful")
    assert rows[2] == [2, 3]


def test_encoder_cleans_text_like_training():
    enc = TeacherEncoder(tiny_tokenizer(), max_length=16)
    assert enc.encode(["good<br /><br />MOVIE"]) == enc.encode(["good movie"])


def test_pad_masks_padding():
    enc = TeacherEncoder(tiny_tokenizer(), max_length=16)
    b = enc.pad([[2, 5, 3], [2, 3]])
    assert b.input_ids.tolist() == [[2, 5, 3], [2, 3, 0]]
    assert b.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert b.input_ids.dtype == np.int64


def test_length_sorted_batches_cover_every_row_once():
    lengths = [5, 1, 9, 3, 9, 2, 7]
    batches = length_sorted_batches(lengths, 3, max_tokens=18)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert all(len(b) * max(lengths[i] for i in b) <= 18 for b in batches)
