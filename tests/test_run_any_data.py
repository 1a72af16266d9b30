"""`edge-distill run` on data the loaders have never seen: a CSV with its own column names and
string labels, classes ordered by a classes.txt, and a folder whose validation split chooses
the teacher's epoch (never the test split). Tiny teacher, seconds per run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from tiny_teacher import FILLER, tiny_checkpoint

from edge_distill.toolkit.cli import main

#: three intents, each with its own words (the classes.txt below orders them differently from sorting)
WORDS = {
    "weather": ["rain", "sunny", "forecast", "cold", "snow", "windy"],
    "play_music": ["song", "playlist", "album", "jazz", "volume", "radio"],
    "book_flight": ["flight", "ticket", "airport", "paris", "seat", "boarding"],
}
CLASSES = ["weather", "play_music", "book_flight"]


def _utterance(rng: np.random.Generator, intent: str) -> str:
    words = list(rng.choice(FILLER, int(rng.integers(2, 12))))
    for _ in range(int(rng.integers(2, 4))):
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(WORDS[intent])))
    return " ".join(words)


def _rows(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    return [(_utterance(rng, CLASSES[i % 3]), CLASSES[i % 3]) for i in range(n)]


def _tiny_teacher(root: Path) -> Path:
    """A tiny 3-label BERT whose vocabulary holds the intent words."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *FILLER, *(w for ws in WORDS.values() for w in ws)]
    return tiny_checkpoint(root / "tiny-bert-3", vocab, num_labels=3)


def _argv(data: Path, ckpt: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--data",
        str(data),
        "--teacher",
        str(ckpt),
        *("--lr", "3e-3", "--epochs", "4", "--batch-size", "8", "--threads", "1"),
        "--check",
        "30",
        "--no-bench",
        "--no-peers",
        "--no-progress",
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture(scope="module")
def intents_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("intents")
    folder = root / "my-data"
    folder.mkdir()
    with open(folder / "intents.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "utterance", "intent"])
        for i, (text, intent) in enumerate(_rows(np.random.default_rng(0), 420)):
            w.writerow([i, text, intent])
    (folder / "classes.txt").write_text("\n".join(CLASSES) + "\n", encoding="utf-8")
    out = root / "out"
    argv = _argv(folder / "intents.csv", _tiny_teacher(root), out)
    argv += ["--text-field", "utterance", "--label-field", "intent", "--labeled", "90", "--unlabeled", "150"]
    assert main([*argv, "--test", "60"]) == 0
    return out


def test_run_on_a_csv_with_its_own_columns_and_classes_txt(intents_run: Path) -> None:
    out = intents_run
    report = json.loads((out / "report.json").read_text())
    assert report["classes"]["names"] == CLASSES and report["classes"]["given"]
    assert report["classes"]["from"].endswith("classes.txt")
    assert report["run"]["classes"]["names"] == CLASSES
    assert "60 test" in report["run"]["splits"] and "validation" in report["run"]["splits"]
    student = report["models"]["student"]
    assert [row["class"] for row in student["per_class"]] == CLASSES
    assert sum(row["support"] for row in student["per_class"]) == 60
    assert np.asarray(student["confusion"]).shape == (3, 3)
    assert np.asarray(student["confusion"]).sum() == 60
    assert (out / "figures" / "confusion_student.png").is_file()
    # the student's settings were chosen on held-out transfer texts (nothing was given)
    choice = report["run"]["student_settings"]
    assert choice["selected"] and choice["chosen"]["objective"] in ("soft", "hard", "logit")
    assert choice["n_fit"] + choice["n_held_out"] == 150 and choice["candidates"]
    stored = json.loads((out / "student" / "student.json").read_text())["info"]["settings_choice"]
    assert stored["chosen"] == choice["chosen"]
    assert stored["chosen"]["objective"] == stored["chosen"]["objective"] and "agreement" in choice["reason"]
    # the gold labels' weight was weighed on the validation set (carved: the file has no such split)
    gold = choice["gold"]
    assert gold["chosen"] in [c["gold_weight"] for c in gold["candidates"]] and len(gold["candidates"]) == 3
    md = (out / "report.md").read_text()
    assert "Gold labels (the labeled set, on the validation set, never test): gold weight" in md
    assert "reviews" not in md and "seed notebook" not in md.lower()
    assert "## Cascade" in md


def test_the_cascade_is_planned_on_held_out_texts_and_reported(intents_run: Path) -> None:
    out = intents_run
    report = json.loads((out / "report.json").read_text())
    c = report["cascade"]
    assert c["ok"], c
    plan = c["plan"]
    assert 0 <= plan["teacher_share"] <= 0.15 + 1e-9 and plan["target"] == "max_share"
    assert 0 <= c["test"]["accuracy"] <= 1 and c["test"]["n"] == 60
    assert {"mean_ms", "p50_ms", "p99_ms"} <= set(c["bench"])
    assert (out / "figures" / "cascade.png").is_file() and (out / "cascade.json").is_file()
    # never chosen on a text the student trained on, nor a test text
    from edge_distill.toolkit.logits import load_logits

    spec = json.loads((out / "cascade.json").read_text())
    assert spec["threshold"] == pytest.approx(plan["threshold"])
    assert plan["n"] >= 1 and len(load_logits(out / "logits").ids) == 150
    assert "train texts in none of" in c["heldout"] or "validation" in c["heldout"]


def test_no_cascade_flag_removes_it_and_keeps_the_rest_cached(intents_run: Path, capsys) -> None:
    out = intents_run
    run = json.loads((out / "report.json").read_text())["run"]
    data, ckpt = Path(run["data"]), out.parent / "tiny-bert-3"
    extra = ["--text-field", "utterance", "--label-field", "intent", "--labeled", "90", "--unlabeled", "150"]
    assert main([*_argv(data, ckpt, out, "--json", "--no-cascade"), *extra, "--test", "60"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cascade"] is None and "cascade" not in result["run"]["stages"]
    assert all(s["cached"] for s in result["run"]["stages"].values())
    assert not (out / "cascade.json").exists()


def test_unlabeled_texts_from_another_file_join_the_transfer_set(intents_run: Path, tmp_path, capsys) -> None:
    """--unlabeled-data: a .txt of production-like texts is labeled too; the teacher is not retrained,
    and a test text in that file is left out of the transfer set."""
    import shutil

    from edge_distill.toolkit.data import text_id
    from edge_distill.toolkit.logits import load_logits

    out = tmp_path / "out"
    shutil.copytree(intents_run, out)
    run = json.loads((out / "report.json").read_text())["run"]
    test_text = next(iter(_test_texts(out)))
    rng = np.random.default_rng(7)
    extra = [_utterance(rng, CLASSES[i % 3]) for i in range(80)]
    (tmp_path / "prod.txt").write_text("\n".join([*extra, "", test_text]) + "\n", encoding="utf-8")
    fields = ["--text-field", "utterance", "--label-field", "intent", "--labeled", "90", "--unlabeled", "all"]
    ckpt = intents_run.parent / "tiny-bert-3"
    argv = _argv(Path(run["data"]), ckpt, out, "--json", "--unlabeled-data", str(tmp_path / "prod.txt"))
    assert main([*argv, *fields, "--test", "60"]) == 0
    result = json.loads(capsys.readouterr().out)["run"]
    assert result["stages"]["teacher_train"]["cached"] and result["stages"]["export_teacher"]["cached"]
    assert not result["stages"]["teacher_label"]["cached"] and result["unlabeled_data"] == [str(tmp_path / "prod.txt")]
    assert f"80 of them from {tmp_path / 'prod.txt'}" in result["splits"]
    ids = set(load_logits(out / "logits").ids)
    assert {text_id(t) for t in extra} <= ids and text_id(test_text) not in ids
    before = load_logits(intents_run / "logits").ids
    assert set(before) <= ids  # 'all': the file's pool as before, and more
    assert _label_info(out)["reused_texts"] == len(before)  # only the new texts went through the teacher
    # the same command: all cached; a text appended to the file: labeled on the next run
    assert main([*argv, *fields, "--test", "60"]) == 0
    assert all(s["cached"] for s in json.loads(capsys.readouterr().out)["run"]["stages"].values())
    with open(tmp_path / "prod.txt", "a", encoding="utf-8") as fh:
        fh.write("a new rain forecast question from today\n")
    assert main([*argv, *fields, "--test", "60"]) == 0
    stages = json.loads(capsys.readouterr().out)["run"]["stages"]
    assert stages["teacher_train"]["cached"] and not stages["teacher_label"]["cached"]
    assert text_id("a new rain forecast question from today") in load_logits(out / "logits").ids
    assert _label_info(out)["texts"] - _label_info(out)["reused_texts"] == 1


def _label_info(out: Path) -> dict:
    return json.loads((out / "stages" / "teacher_label.json").read_text())["info"]


def _test_texts(out: Path) -> list[str]:
    from edge_distill.toolkit.options import DataOptions

    record = json.loads((out / "logits" / "data.json").read_text())
    return list(DataOptions.from_record(record).load().test.texts)


def test_integer_codes_that_are_not_ids_name_their_classes_through_every_stage(tmp_path) -> None:
    """Labels 10, 20, 30 (no names): three classes named by their values; every stage that reloads
    the data gets those names as label_names and must read the codes as values, not as ids."""
    rng = np.random.default_rng(2)
    codes = {intent: 10 * (i + 1) for i, intent in enumerate(CLASSES)}
    data = tmp_path / "codes.jsonl"
    with open(data, "w", encoding="utf-8") as fh:
        for text, intent in _rows(rng, 300):
            fh.write(json.dumps({"text": text, "code": codes[intent]}) + "\n")
    out = tmp_path / "out"
    argv = _argv(data, _tiny_teacher(tmp_path), out, "--label-field", "code", "--labeled", "90", "--test", "60")
    assert main([*argv, "--unlabeled", "120"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["classes"]["names"] == ["10", "20", "30"] and report["classes"]["from"] == "the label values"
    assert [row["class"] for row in report["models"]["student"]["per_class"]] == ["10", "20", "30"]
    assert report["models"]["student"]["accuracy"] > 0.8


def test_run_on_hub_parquet_shards_with_class_label_names(tmp_path, caplog) -> None:
    """A Hugging Face hub download's data/ folder: train in two shards, the names in the files'
    ClassLabel metadata (not sorted); every stage gets them. The test split is smaller than the
    default cap of 1,000: each stage reads the data again, and the note says so once."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    meta = {"label": {"names": CLASSES, "_type": "ClassLabel"}, "text": {"dtype": "string", "_type": "Value"}}
    meta = {b"huggingface": json.dumps({"info": {"features": meta}}).encode()}
    rows = _rows(np.random.default_rng(3), 360)
    data = tmp_path / "data"
    data.mkdir()
    for name, part in (
        ("train-00000-of-00002", rows[:150]),
        ("train-00001-of-00002", rows[150:300]),
        ("test-00000-of-00001", rows[300:]),
    ):
        table = pa.table({"text": [t for t, _ in part], "label": [CLASSES.index(c) for _, c in part]})
        pq.write_table(table.replace_schema_metadata(meta), data / f"{name}.parquet")
    out = tmp_path / "out"
    caplog.set_level("INFO", logger="edge_distill")
    assert main([*_argv(data, _tiny_teacher(tmp_path), out, "--labeled", "90", "--unlabeled", "120")]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["classes"]["names"] == CLASSES and report["classes"]["given"]
    assert report["classes"]["from"] == f"{data} (3 Parquet files): ClassLabel"
    assert [row["class"] for row in report["models"]["student"]["per_class"]] == CLASSES
    assert sum(row["support"] for row in report["models"]["student"]["per_class"]) == 60
    notes = [r for r in caplog.records if "asked for up to 1000 test texts" in r.getMessage()]
    assert len(notes) == 1, [r.getMessage() for r in notes]


def test_a_validation_split_chooses_the_teacher_epoch_never_the_test_split(tmp_path) -> None:
    rng = np.random.default_rng(1)
    data = tmp_path / "three-splits"
    data.mkdir()
    splits = {"train": _rows(rng, 300), "validation": _rows(rng, 45), "test": _rows(rng, 60)}
    for name, rows in splits.items():
        with open(data / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for text, intent in rows:
                fh.write(json.dumps({"text": text, "label": intent}) + "\n")
    out = tmp_path / "out"
    argv = _argv(data, _tiny_teacher(tmp_path), out, "--labeled", "90", "--test", "all")  # --unlabeled auto
    assert main([*argv, "--no-cascade"]) == 0
    training = json.loads((out / "teacher" / "training.json").read_text())
    assert training["validation"] == "the validation set (the 'validation' split)"
    assert training["n_train"] == 90  # every labeled row trains: the epoch is chosen on the split
    assert training["n_val"] == 45 and len(training["history"]) == 4
    from edge_distill.toolkit.data import text_id

    val_ids = {text_id(t) for t, _ in splits["validation"]}
    test_ids = {text_id(t) for t, _ in splits["test"]}
    assert set(training["val_ids"]) <= val_ids and not set(training["val_ids"]) & test_ids
    # the teacher's length followed the (short) texts instead of a fixed 512
    profile = training["length_profile"]
    assert training["max_length"] <= 64 and profile["max_length"] == training["max_length"]
    assert profile["p99"] <= training["max_length"] and training["max_length"] % 8 == 0
    report = json.loads((out / "report.json").read_text())
    # auto: every train row left (short texts fit the budget), recorded as the number it was
    from edge_distill.toolkit.logits import load_logits

    assert report["run"]["unlabeled"] == len(load_logits(out / "logits").ids) == 300 - 90
    assert report["classes"]["names"] == sorted(CLASSES)  # no classes.txt: the label strings, sorted
    assert "'validation' split" in report["run"]["splits"]


def test_run_takes_the_cascade_validation_and_auto_options(tmp_path) -> None:
    """--validation reaches the one DataOptions; the cascade flags reach RunConfig; the student's
    settings are chosen unless one is given; the teacher's length follows the data unless given."""
    from edge_distill.runtime.errors import DataError
    from edge_distill.toolkit.cli import build_parser
    from edge_distill.toolkit.commands.run import run_config

    base = ["run", "--data", "d", "--out", str(tmp_path)]
    cfg = run_config(build_parser().parse_args(base))
    assert cfg.cascade and cfg.cascade_target == "max_share" and cfg.cascade_max_share == 0.15
    assert cfg.data.validation is None and cfg.student.selects and cfg.teacher.max_length == "auto"
    argv = [*base, "--validation", "300", "--no-cascade", "--cascade-target", "match_teacher"]
    argv += ["--cascade-max-share", "0.3", "--C", "10", "--max-length", "128"]
    cfg = run_config(build_parser().parse_args(argv))
    assert cfg.data.validation == 300 and cfg.data.record()["validation"] == 300
    assert (cfg.cascade, cfg.cascade_target, cfg.cascade_max_share) == (False, "match_teacher", 0.3)
    assert not cfg.student.selects and cfg.student.with_defaults().objective == "soft" and cfg.student.C == 10
    assert cfg.teacher.max_length == 128
    with pytest.raises(DataError, match="--objective auto chooses"):
        run_config(build_parser().parse_args([*base, "--objective", "auto", "--C", "10"]))


def test_distiller_chooses_the_teacher_epoch_on_given_validation_texts(tmp_path) -> None:
    from tiny_teacher import build_tiny

    from edge_distill.runtime.errors import DataError
    from edge_distill.toolkit import Distiller
    from edge_distill.toolkit.data import load_dataset
    from edge_distill.toolkit.student.distill import StudentConfig
    from edge_distill.toolkit.teacher.train import TrainConfig

    tiny = build_tiny(tmp_path)
    ds = load_dataset(tiny["data"], label_names=("negative", "positive"))
    train, test = ds["train"], ds["test"]
    texts, labels = train.texts[:120], train.labels[:120].tolist()
    val_texts, val_labels = test.texts[:30], ["negative" if y == 0 else "positive" for y in test.labels[:30]]
    d = Distiller(
        str(tiny["ckpt"]),
        label_names=["negative", "positive"],
        teacher_config=TrainConfig(lr=3e-3, epochs=2, batch_size=8, threads=1, progress=False),
        student_config=StudentConfig(features={"min_df": 1}),
        random_state=0,
    ).fit(texts, labels, ds["unsup"].texts[:100], validation_texts=val_texts, validation_labels=val_labels)
    r = d.teacher_result_
    assert r is not None and r.n_train == 120 and r.n_val == 30 and r.validation.startswith("the validation set")
    assert r.length_profile is not None and r.max_length == r.length_profile["max_length"] <= 64
    with pytest.raises(DataError, match="go together"):
        Distiller(str(tiny["ckpt"]), label_names=["negative", "positive"]).fit(
            texts, labels, ["x"], validation_texts=val_texts
        )


def test_cascade_heldout_texts_are_never_test_or_trained_on(tmp_path) -> None:
    """The threshold's texts: the validation split where there is one, else held-out train texts
    outside the transfer set, else nothing (the run then skips the cascade with a note)."""
    from edge_distill.toolkit.api import cascade_heldout
    from edge_distill.toolkit.options import DataOptions

    rng = np.random.default_rng(2)
    folder = tmp_path / "d"
    folder.mkdir()
    for name, n in (("train", 120), ("validation", 30), ("test", 30)):
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for text, intent in _rows(rng, n):
                fh.write(json.dumps({"text": text, "label": intent}) + "\n")
    data = DataOptions(str(folder), labeled=30, unlabeled=None, test=None)
    splits = data.load()
    trained_on = set(splits.unlabeled.ids) | set(splits.labeled.ids)
    held, origin = cascade_heldout(data, splits, trained_on)
    assert "'validation' split" in origin and set(held.ids) == set(splits.validation.ids)
    assert not set(held.ids) & (trained_on | set(splits.test.ids))
    # without the validation file: the carved validation set (every other train text is in the transfer set)
    (folder / "validation.jsonl").unlink()
    data = DataOptions(str(folder), labeled=30, unlabeled=None, test=None)
    splits = data.load()
    trained_on = set(splits.unlabeled.ids) | set(splits.labeled.ids)
    held, origin = cascade_heldout(data, splits, trained_on)
    assert "carved" in origin and len(held) == len(splits.validation) > 0
    # no validation set and every train text trained on: no held-out texts, no cascade
    data = DataOptions(str(folder), labeled=30, unlabeled=None, test=None, validation=0)
    splits = data.load()
    assert cascade_heldout(data, splits, set(splits.unlabeled.ids) | set(splits.labeled.ids)) == (None, "none")
    # a smaller transfer set leaves held-out train texts
    data = DataOptions(str(folder), labeled=30, unlabeled=20, test=None, validation=0)
    splits = data.load()
    trained_on = set(splits.unlabeled.ids) | set(splits.labeled.ids)
    held, origin = cascade_heldout(data, splits, trained_on)
    assert "train texts" in origin and len(held) == 120 - 30 - 20
    assert not set(held.ids) & (trained_on | set(splits.test.ids))


def test_the_levers_study_measures_each_variant_on_a_finished_run(intents_run: Path) -> None:
    from edge_distill.toolkit.student.levers import VARIANTS, measure

    picked = {k: VARIANTS[k] for k in ("defaults", "gold weight 3", "labeled texts as transfer texts")}
    rows = measure(intents_run, picked)
    assert [r["variant"] for r in rows] == list(picked)
    for r in rows:
        assert 0 <= r["validation_accuracy"] <= 1 and 0 <= r["test_accuracy"] <= 1 and r["n_features"] > 0
    # the labeled texts add n-grams the transfer texts lack: the variants really differ
    assert rows[2]["n_features"] >= rows[0]["n_features"] and rows[1] != rows[0]
