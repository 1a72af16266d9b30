"""Peers: what a user would deploy instead of the student, trained on the same teacher targets.

- ``fasttext``: fastText supervised (:mod:`toolkit.peers.fasttext_peer`);
- ``model2vec``: Model2Vec static embeddings of the teacher's backbone + logistic regression
  (:mod:`toolkit.peers.model2vec_peer`).

Both learn from the transfer set labeled by the teacher plus the gold labeled set, are saved
to a folder without pickle, and are scored through ``predict_proba`` by the same evaluation
and benchmark as the student. They need the ``peers`` extra; without it :func:`missing` says
so and the pipeline skips them with that note instead of failing. Their default settings
(:data:`DEFAULTS`) are plain data, readable without the extra.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from edge_distill.runtime.extras import MissingExtraError, require
from edge_distill.toolkit.peers.common import DEFAULTS, MANIFEST, folder_bytes, read_manifest, training_set

#: peer name -> the modules it needs to fit (the first is the peer's own library)
PEERS: dict[str, tuple[str, ...]] = {
    "fasttext": ("fasttext",),
    "model2vec": ("model2vec", "model2vec.distill", "sklearn.linear_model"),
}

#: peer name -> top-level distributions whose presence decides whether it can be fitted (cheap to check)
NEEDS: dict[str, tuple[str, ...]] = {
    "fasttext": ("fasttext",),
    "model2vec": ("model2vec", "skeletoken", "torch", "transformers", "sklearn"),
}

__all__ = [
    "DEFAULTS",
    "MANIFEST",
    "PEERS",
    "folder_bytes",
    "installed",
    "is_peer",
    "load_peer",
    "make_peer",
    "missing",
    "training_set",
]


def installed(name: str) -> bool:
    """Whether peer ``name``'s libraries are present, without importing them (part of a stage key)."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in NEEDS[name])
    except (ImportError, ValueError):
        return False


def missing(name: str) -> str | None:
    """Why peer ``name`` cannot be fitted here (a note naming the extra), or None when it can."""
    for module in PEERS[name]:
        try:
            require(module, f"the {name} peer")
        except MissingExtraError as exc:
            return str(exc)
        except ImportError as exc:  # installed but broken (e.g. a missing transitive dependency)
            return f"{module!r} failed to import for the {name} peer: {exc}"
    return None


def make_peer(name: str, label_names: list[str] | tuple[str, ...], **params: Any):
    """An unfitted peer by name."""
    if name == "fasttext":
        from edge_distill.toolkit.peers.fasttext_peer import FastTextPeer

        return FastTextPeer(label_names, **params)
    if name == "model2vec":
        from edge_distill.toolkit.peers.model2vec_peer import Model2VecPeer

        return Model2VecPeer(label_names, **params)
    raise ValueError(f"unknown peer {name!r}; expected one of {sorted(PEERS)}")


def is_peer(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder holding a saved peer."""
    return (Path(path) / MANIFEST).is_file()


def load_peer(path: str | os.PathLike[str]):
    """The peer saved in ``path``, whatever its kind."""
    kind = read_manifest(path)["kind"]
    if kind == "fasttext":
        from edge_distill.toolkit.peers.fasttext_peer import FastTextPeer

        return FastTextPeer.load(path)
    if kind == "model2vec":
        from edge_distill.toolkit.peers.model2vec_peer import Model2VecPeer

        return Model2VecPeer.load(path)
    raise ValueError(f"{path}: unknown peer kind {kind!r}")
