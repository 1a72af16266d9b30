"""The int8 gate: fp32 nodes chosen by measured sensitivity, a decision by confidence interval.

Mechanics on the tiny BERT teacher (real quantization, real logits): the sensitivity ranking
is computed, the fp32 list grows most-sensitive-first (1, 2, 4, ... nodes, then a bisection)
until the criterion passes or the cap is reached, each variant composed from one quantization,
the interval is reported, and a gate that cannot pass raises a ParityError naming its tolerance
and writes nothing. The statistics on known counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")

from tiny_teacher import build_tiny

from edge_distill.exporters import teacher as et
from edge_distill.toolkit.cli import main


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> dict:
    """A trained tiny teacher, its fused fp32 graph and metadata, and disjoint held-out draws."""
    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, read_record
    from edge_distill.toolkit.teacher.heldout import heldout_gate_sets

    root = tmp_path_factory.mktemp("int8")
    tiny = build_tiny(root)
    train = ["teacher", "train", "--data", str(tiny["data"]), "--labeled", "160", "--test", "40", "--seed", "0"]
    train += ["--model", str(tiny["ckpt"]), "--max-length", "24", "--lr", "3e-3", "--epochs", "4"]
    assert main([*train, "--batch-size", "8", "--threads", "1", "--no-progress", "--out", str(root / "run")]) == 0
    folder = root / "run" / "teacher"
    record = read_record(folder)
    tokenizer = load_tokenizer(str(folder))
    model = load_classifier(str(folder), attn="eager").eval()
    work = root / "work"
    work.mkdir()
    et.to_onnx_graph(model, et._model_inputs(model, tokenizer), work / "raw.onnx")
    fused, _ = et.fuse(work / "raw.onnx", model.config)
    meta = et.teacher_metadata(folder, record, ["negative", "positive"], tokenizer)
    check, calibration = heldout_gate_sets(record["data"], 40, 40)
    return {
        "root": root,
        "folder": folder,
        "fused": fused,
        "meta": meta,
        "work": work,
        "check": check,
        "cal": calibration,
    }


def test_agreement_is_decided_by_the_lower_bound_not_the_point():
    ref = np.zeros((1000, 2), np.float32)
    ref[:, 1] = 1
    got = ref.copy()
    got[:5] = [1, 0]  # 995 of 1000 agree
    fig = et.agreement_figures(ref, got)
    lo, hi = fig["agreement_ci"]
    assert fig["agreement"] == 0.995 and lo < 0.99 < 0.995 < hi and fig["confidence"] == 0.95
    assert not et.int8_passes(fig, et.Tolerances(int8_min_agreement=0.99))  # the point estimate alone would pass
    assert et.int8_passes(fig, et.Tolerances(int8_min_agreement=0.985))
    more = et.agreement_figures(np.tile(ref, (3, 1)), np.tile(got, (3, 1)))  # same rate on 3,000 texts
    assert more["agreement_ci"][0] > lo and et.int8_passes(more, et.Tolerances(int8_min_agreement=0.99))


def test_heldout_gate_sets_are_disjoint(tiny_run):
    check, cal = tiny_run["check"], tiny_run["cal"]
    assert len(check) > 0 and len(cal) > 0 and not set(check.ids) & set(cal.ids)
    # asked 40 + 40 from a pool of fewer than 80 texts: the calibration gets a third of it
    assert len(check) + len(cal) < 80 and len(cal) == (len(check) + len(cal)) // 3


def _select(run, tol, n=None):
    texts = run["cal"].texts[:n] if n else run["cal"].texts
    return et.choose_fp32_nodes(run["fused"], run["work"], run["meta"], texts, tol, rank_texts=20, threads=1)


def test_a_criterion_that_cannot_pass_ranks_every_node_and_stops_at_the_cap(tiny_run):
    sel = _select(tiny_run, et.Tolerances(int8_min_agreement=1.01, int8_max_fp32_nodes=3))
    candidates = et.quantizable_nodes(tiny_run["fused"])
    assert len(candidates) == 8  # 2 layers x (Attention, attention output, FFN in, FFN out)
    assert not sel["passed"] and sel["cap"] == 3 and len(sel["steps"]) == 4
    assert [s["fp32_nodes"] for s in sel["steps"]] == [0, 1, 2, 3]
    errors = [r["mean_abs_dlogit"] for r in sel["ranking"]]
    assert sorted(r["node"] for r in sel["ranking"]) == sorted(candidates) and errors == sorted(errors, reverse=True)
    assert errors[0] > 0
    assert sel["fp32_nodes"] == [r["node"] for r in sel["ranking"][:3]]
    for step in sel["steps"]:
        lo, hi = step["agreement_ci"]
        assert lo <= step["agreement"] <= hi and step["texts"] == len(tiny_run["cal"])


def test_the_fp32_list_grows_most_sensitive_first_until_the_gate_passes(tiny_run):
    probe = _select(tiny_run, et.Tolerances(int8_min_agreement=1.01, int8_max_fp32_nodes=4))
    errors = {s["fp32_nodes"]: s["mean_abs_dlogit"] for s in probe["steps"]}
    assert [s["fp32_nodes"] for s in probe["steps"]] == [0, 1, 2, 4, 3]  # gallop 1, 2, 4; then the rest
    goal = min(errors[k] for k in range(1, 5))
    assert goal < errors[0], errors  # keeping the most sensitive nodes in fp32 lowers the error
    tol = et.Tolerances(int8_min_agreement=0.0, int8_max_mean_abs_dlogit=goal, int8_max_fp32_nodes=4)
    sel = _select(tiny_run, tol)
    k = sel["chosen"]
    assert sel["passed"] and k >= 1 and errors[k] <= goal
    assert sel["fp32_nodes"] == [r["node"] for r in probe["ranking"][:k]]
    tried = [s["fp32_nodes"] for s in sel["steps"]]
    assert len(tried) == len(set(tried)) and all(errors[j] > goal for j in tried if j < k)


def test_composed_variants_are_what_the_quantizer_gives(tiny_run):
    """A variant composed from the model quantized once computes the same logits as quantizing
    with those nodes excluded: the search may use it in place of a fresh quantization."""
    from edge_distill.exporters.int8_compose import compose_int8
    from edge_distill.runtime import schema

    fused, work, meta = tiny_run["fused"], tiny_run["work"], tiny_run["meta"]
    cands = et.quantizable_nodes(fused)
    every = et.quantize_int8(fused, work, fp32_nodes=[])
    for nodes in ([], cands[:1], cands[1:6:2], cands[1:]):
        want, got = et.quantize_int8(fused, work, fp32_nodes=nodes), compose_int8(fused, every, nodes)
        assert sorted(n.op_type for n in got.graph.node) == sorted(n.op_type for n in want.graph.node)
        assert {i.name for i in got.graph.initializer} == {i.name for i in want.graph.initializer}
        a, b = (et._open(et.sealed_bytes(m, {**meta, schema.PRECISION: "int8"}), "q", 1) for m in (want, got))
        rows = a.encoder.encode(tiny_run["cal"].texts)
        assert np.array_equal(a.logits_of_ids(rows), b.logits_of_ids(rows)), nodes


class _Scripted(et._Search):
    """The search's order of steps with a scripted verdict for each k."""

    def __init__(self, accepted: set[int]):
        self.accepted, self.tried = accepted, []

    def accepts(self, k: int) -> bool:
        self.tried.append(k)
        return k in self.accepted


@pytest.mark.parametrize(
    ("accepted", "cap", "tried", "chosen"),
    [
        (set(range(10, 13)), 12, [1, 2, 4, 8, 12, 10, 9], 10),  # emotion: 8 scored k's where a linear search took 13
        ({4, 5, 6}, 12, [1, 2, 4, 3], 4),
        ({1, 2}, 12, [1], 1),
        ({3}, 4, [1, 2, 4, 3], 3),  # not monotone: no gallop point passes, the others are tried in turn
        (set(), 3, [1, 2, 3], 3),  # nothing passes: the cap
    ],
)
def test_gallop_then_bisect(accepted, cap, tried, chosen):
    search = _Scripted(accepted)
    assert search.smallest_accepted(cap) == chosen and search.tried == tried
    assert et.gallop_order(12) == [1, 2, 4, 8, 12] and et.gallop_order(8) == [1, 2, 4, 8] and et.gallop_order(0) == []


def test_everything_int8_passing_needs_no_ranking(tiny_run):
    sel = _select(tiny_run, et.Tolerances(int8_min_agreement=0.5))
    assert sel["passed"] and sel["fp32_nodes"] == [] and sel["ranking"] is None and len(sel["steps"]) == 1


def test_export_reports_the_interval_and_the_selection(tiny_run):
    from edge_distill import runtime

    out, q = tiny_run["root"] / "t.onnx", tiny_run["root"] / "t.int8.onnx"
    tol = et.Tolerances(int8_min_agreement=0.85)
    report = et.export_teacher(
        tiny_run["folder"], out, int8_out=q, heldout=tiny_run["check"], calibration=tiny_run["cal"].texts,
        agreement_texts=["good fun film", "dull poor plot"], tolerances=tol, threads=1,
    )  # fmt: skip
    figures = report["int8"]
    assert figures["texts"] == len(tiny_run["check"]) + 2 and figures["reviews"] == len(tiny_run["check"])
    assert figures["selection"]["independent_of_gate"] and figures["agreement_ci"][0] >= 0.85
    stored = json.loads(runtime.load(q).metadata["edge_distill.parity"])
    assert stored["agreement_ci"] == figures["agreement_ci"] and "Wilson lower bound" in stored["decision"]


def test_a_gate_that_cannot_pass_names_its_tolerance_and_writes_nothing(tiny_run):
    out, q = tiny_run["root"] / "never.onnx", tiny_run["root"] / "never.int8.onnx"
    tol = et.Tolerances(int8_min_agreement=0.999, int8_max_fp32_nodes=1)
    with pytest.raises(et.ParityError, match=r"95% Wilson interval .* \(tolerance: lower bound >= 0.999\)"):
        et.export_teacher(
            tiny_run["folder"], out, int8_out=q, heldout=tiny_run["check"], calibration=tiny_run["cal"].texts,
            tolerances=tol, threads=1,
        )  # fmt: skip
    assert not out.exists() and not q.exists()


def test_benchmark_ranks_nodes_and_compares_recipes(tiny_run):
    from edge_distill.benchmarks.int8_agreement import measure

    result = measure(Path(tiny_run["folder"]), [0, 1], n=30, sensitivity=True, rank_texts=20)
    none, first = result["recipes"]
    assert result["reviews"] == 30 and len(first["fp32_nodes"]) == len(none["fp32_nodes"]) + 1
    assert len(result["ranking"]) == 8 and 0 <= none["agreement_ci"][0] <= none["agreement"]


def _pairs(b: int, c: int, same_right: int, n: int):
    """Logits of fp32 and int8 on ``n`` labeled texts: ``b`` only fp32 right, ``c`` only int8 right."""
    labels = np.zeros(n, np.int64)
    right, wrong = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    ref = np.tile(wrong, (n, 1))
    got = np.tile(wrong, (n, 1))
    ref[: b + same_right], got[b : b + c + same_right] = right, right
    return ref, got, labels


def test_accuracy_drop_interval_comes_from_the_discordant_pairs():
    ref, got, y = _pairs(b=6, c=0, same_right=900, n=1000)
    d = et.accuracy_drop(ref, got, y)
    assert (d["only_fp32_right"], d["only_int8_right"]) == (6, 0) and d["accuracy_drop"] == pytest.approx(0.006)
    lo, hi = d["accuracy_drop_ci"]
    assert 0 < lo < 0.006 and hi == pytest.approx(0.006)  # six flips, all one way: a real, small loss
    even = et.accuracy_drop(*_pairs(b=3, c=3, same_right=900, n=1000))
    assert even["accuracy_drop"] == 0 and even["accuracy_drop_ci"][0] == pytest.approx(-even["accuracy_drop_ci"][1])
    assert et.accuracy_drop(*_pairs(b=0, c=0, same_right=500, n=1000))["accuracy_drop_ci"] == [0.0, 0.0]


def test_the_search_goes_past_a_bare_pass_to_its_margin(tiny_run):
    bare = _select(tiny_run, et.Tolerances(int8_min_agreement=0.0, int8_select_margin=0.0))
    assert bare["passed"] and len(bare["steps"]) == 1
    far = _select(tiny_run, et.Tolerances(int8_min_agreement=0.0, int8_select_margin=1.01, int8_max_fp32_nodes=2))
    assert [s["fp32_nodes"] for s in far["steps"]] == [0, 1, 2]  # each step passes; the margin is never met


def test_without_an_unlabeled_split_held_out_rows_widen_the_agreement(tiny_run, tmp_path):
    import shutil

    from edge_distill.toolkit.teacher.backbone import read_record
    from edge_distill.toolkit.teacher.heldout import int8_gate_texts

    data = dict(read_record(tiny_run["folder"])["data"])
    src = Path(data.get("source") or data["data"])
    folder = tmp_path / "no-unsup"
    folder.mkdir()
    for name in ("train", "test"):
        shutil.copy(src / f"{name}.jsonl.gz", folder)
    gate = int8_gate_texts(data, 20, 20, 1000, source=str(folder))
    check, cal, extra = set(gate.check.texts), set(gate.calibration), set(gate.agreement)
    assert len(check) == 20 and len(cal) == 20 and len(extra) > 20
    assert not (check & cal) and not (check & extra) and not (cal & extra)


def test_a_token_budget_reads_more_short_texts_than_long_ones():
    """The search reads calibration texts up to its token budget, never fewer than SEARCH_MIN_TEXTS:
    with the budget of 1,000 long texts, 4,000 tweets are all read and 4,000 reviews are cut to 1,000."""
    short, long = [[0] * 30] * 4000, [[0] * et.SEARCH_TOKENS] * 4000
    assert len(et._within_budget(short, et.AUTO_SEARCH_TOKENS)) == 4000
    assert len(et._within_budget(long, et.AUTO_SEARCH_TOKENS)) == et.SEARCH_MIN_TEXTS == 1000
    assert len(et._within_budget(long[:300], et.AUTO_SEARCH_TOKENS)) == 300  # fewer given: all of them
    assert len(et._within_budget(long, None)) == 4000
    assert et.Tolerances().int8_search_tokens == et.AUTO_SEARCH_TOKENS  # the exporter's own default, too
    mixed = [[0] * 100] * 1500 + [[0] * 10] * 3000  # 150,000 tokens in the first 1,500: the budget ends there
    assert len(et._within_budget(mixed, 128_000)) == 1280


def test_calibration_is_auto_or_a_count():
    from edge_distill.runtime.errors import DataError
    from edge_distill.toolkit.options import TeacherExportOptions, parse_auto_count

    assert TeacherExportOptions().calibration == "auto" and parse_auto_count("AUTO") == "auto"
    assert parse_auto_count("4,000") == 4000 and parse_auto_count("0") == 0
    for bad in ("-1", "many"):
        with pytest.raises(ValueError, match="expected a whole number"):
            parse_auto_count(bad)
    with pytest.raises(DataError, match="calibration must be 'auto' or a whole number >= 0, got 'lots'"):
        TeacherExportOptions(calibration="lots")


class _Variants:
    """Logits that disagree with the reference on every row ``i`` with ``i % 1000 < wrong[k]``."""

    def __init__(self, wrong: dict[int, int]):
        self.wrong, self.calls = wrong, []

    batch_plan = staticmethod(et.TeacherClassifier.batch_plan)

    def logits_of_batches(self, nodes: list[str], rows, batches) -> np.ndarray:
        idx = np.concatenate(batches)
        self.calls.append(len(idx))
        return np.where((idx % 1000 < self.wrong[len(nodes)])[:, None], [1.0, 0.0], [0.0, 1.0])


@pytest.mark.parametrize(
    ("n_rows", "wrong", "screened", "accepted"),
    [
        (4000, 10, True, False),  # 0.990 on the screen's 1,024 rows: its upper bound 0.9947 misses 0.995
        (4000, 7, False, False),  # 0.993: the bound reaches the target, every row decides (and refuses)
        (4000, 0, False, True),
        (1999, 20, False, False),  # too few rows for a screen: every row in one pass
    ],
)
def test_a_hopeless_k_is_refused_on_a_quarter_of_the_batches(n_rows, wrong, screened, accepted):
    ref = np.tile([0.0, 1.0], (n_rows, 1))
    variants = _Variants({0: wrong})
    search = et._Search(variants, [[0]] * n_rows, ref, et.Tolerances())
    assert search.accepts(0) == accepted and search.figures[0].get("screened", False) == screened
    screen = sum(len(b) for b in variants.batch_plan([[0]] * n_rows)[:: et.SCREEN_EVERY])
    assert variants.calls == ([screen] if screened else [screen, n_rows - screen] if n_rows >= 2000 else [n_rows])
    assert search.figures[0]["texts"] == (screen if screened else n_rows)
    assert search.accepts(0) == accepted and len(variants.calls) == (1 if n_rows < 2000 or screened else 2)


def test_a_part_of_the_batch_plan_gives_the_logits_of_a_full_call(tiny_run):
    """The screen scores some of the batches a full call runs: int8 picks its activation scales
    per batch, so those rows get exactly the full call's logits (not a fresh call's on them)."""
    variants = et.Int8Variants(tiny_run["fused"], tiny_run["work"], tiny_run["meta"], 1)
    rows = variants.classifier([]).encoder.encode(tiny_run["cal"].texts + tiny_run["check"].texts)
    plan = variants.batch_plan(rows, 8)
    full = variants.classifier([]).logits_of_ids(rows, 8)
    part = plan[::2]
    got = variants.classifier([]).logits_of_batches(rows, part)
    assert len(part) >= 2 and np.array_equal(got, full[np.concatenate(part)])
