"""The latency harness: every contender gets its samples, in the order and count it promises."""

from __future__ import annotations

import pytest

from edge_distill.benchmarks.harness import Contender, block_latency, interleaved_latency


def _recording(name: str, log: list[tuple[str, str]]) -> Contender:
    def predict(texts):
        log.append((name, texts[0]))
        return [0] * len(texts)

    return Contender(name=name, predict=predict)


def test_block_latency_takes_turns_and_drops_each_blocks_first_call() -> None:
    log: list[tuple[str, str]] = []
    result = block_latency([_recording("a", log), _recording("b", log)], ["x", "y", "z"], rounds=4, block=5)
    assert {k: v["n"] for k, v in result.items()} == {"a": 16, "b": 16}  # 4 rounds x (5 - 1)
    runs = [log[i][0] for i in range(0, len(log), 5)]
    assert all(log[i + j][0] == log[i][0] for i in range(0, len(log), 5) for j in range(5))  # whole blocks
    assert sorted(runs[0:2]) == sorted(runs[2:4]) == ["a", "b"]  # every round, each contender once
    assert {t for _, t in log} == {"x", "y", "z"}  # the texts are cycled
    with pytest.raises(ValueError, match="block must be >= 2"):
        block_latency([_recording("a", log)], ["x"], block=1)


def test_interleaved_latency_gives_every_contender_every_round() -> None:
    log: list[tuple[str, str]] = []
    result = interleaved_latency([_recording("a", log), _recording("b", log)], ["x"], rounds=7, warmup=2)
    assert {k: v["n"] for k, v in result.items()} == {"a": 7, "b": 7}
    assert result["a"]["p50_ms"] >= 0 and result["a"]["p99_ms"] >= result["a"]["p50_ms"]
