"""Shared fixtures: where the real data is, and the rule that CI never skips it.

The real data is found through one setting, ``EDGE_DISTILL_DATA`` (default: ``../shared/data``
beside the repository). Where it is absent the tests that need it skip with the reason; with
``EDGE_DISTILL_REQUIRE_DATA=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("EDGE_DISTILL_DATA", REPO.parent / "shared" / "data"))


def _need(path: Path, what: str) -> Path:
    if path.exists():
        return path
    reason = f"{what} not found at {path} (set EDGE_DISTILL_DATA)"
    if os.environ.get("EDGE_DISTILL_REQUIRE_DATA") == "1":
        pytest.fail(f"{reason}; EDGE_DISTILL_REQUIRE_DATA=1 forbids skipping it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The shared real-data folder (holds imdb/ and sst2/)."""
    return _need(DATA_DIR, "the real data folder")


@pytest.fixture(scope="session")
def imdb_dir(real_data_dir: Path) -> Path:
    """``../shared/data/imdb``: train/test/unsup JSONL.gz."""
    return _need(real_data_dir / "imdb", "real IMDB")


@pytest.fixture(scope="session")
def sst2_dir(real_data_dir: Path) -> Path:
    """``../shared/data/sst2``: train/validation/test-unlabeled JSONL.gz."""
    return _need(real_data_dir / "sst2", "real SST-2")


@pytest.fixture(scope="session")
def imdb(imdb_dir: Path):
    """Every split of the real IMDB data, read once per session."""
    from edge_distill.toolkit.data import load_dataset

    return load_dataset(imdb_dir)
