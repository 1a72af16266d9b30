"""The models a user could deploy, each wrapped as a :class:`benchmarks.harness.Contender`.

An artifact path decides the contender: an ``.onnx`` file goes through the runtime (student
or teacher, fp32 or int8, as its metadata says); a folder holding a saved student is the
student's scikit-learn pipeline; a folder holding ``config.json`` is the PyTorch teacher; a
folder holding ``peer.json`` is a peer (fastText or Model2Vec + logistic regression, see
:mod:`toolkit.peers`), named by its kind.
Every contender is built twice: one thread for latency, all threads for throughput.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_distill import runtime
from edge_distill.benchmarks.harness import Contender
from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.peers import folder_bytes, is_peer, load_peer
from edge_distill.toolkit.peers.common import read_manifest


def artifact_kind(path: Path) -> str:
    """``onnx``, ``sklearn`` (a saved student), ``torch`` (a save_pretrained teacher) or ``peer``."""
    if path.is_file() and path.suffix == ".onnx":
        return "onnx"
    if path.is_dir():
        from edge_distill.toolkit.student.store import MANIFEST, student_dir

        if is_peer(path):
            return "peer"
        if (student_dir(path) / MANIFEST).is_file():
            return "sklearn"
        if (path / "config.json").is_file():
            return "torch"
    raise ValueError(f"{path}: not a benchmarkable artifact (an .onnx file, a student folder or a teacher folder)")


def _onnx(path: Path, threads: int | None) -> tuple[str, Callable[[list[str]], np.ndarray]]:
    clf = runtime.load(path, threads=threads)  # loaded once: its kind names it, its session predicts
    return (f"{clf.kind}_int8" if ".int8." in path.name else f"{clf.kind}_onnx"), clf.predict_proba


def _sklearn(path: Path, threads: int | None) -> tuple[str, Callable[[list[str]], np.ndarray]]:
    from edge_distill.toolkit.student.store import load_student

    return "student_sklearn", load_student(path).pipeline().predict_proba


def _torch(path: Path, threads: int | None) -> tuple[str, Callable[[list[str]], np.ndarray]]:
    import torch

    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, read_record
    from edge_distill.toolkit.teacher.inference import torch_logits

    record = read_record(path)
    model = load_classifier(str(path))
    model.eval()
    encoder = TeacherEncoder(
        load_tokenizer(str(path)).backend_tokenizer, record.get("max_length", 256), record.get("truncation", "head")
    )
    n = threads or os.cpu_count() or 1

    def predict(texts: list[str]) -> np.ndarray:
        torch.set_num_threads(n)  # the setting is global; each call restores its own
        return torch_logits(model, encoder, encoder.encode(texts))

    return "teacher_torch", predict


def _peer(path: Path, threads: int | None) -> tuple[str, Callable[[list[str]], np.ndarray]]:
    """A peer, named by its kind. ``threads`` has nothing to set: fastText's prediction runs on the calling
    thread; Model2Vec's tokenizer batches on the tokenizers library's own pool, as the teacher runtime's does."""
    return str(read_manifest(path)["kind"]), load_peer(path).predict_proba


#: each builder loads the artifact once and returns its default contender name and its predict
_BUILDERS = {"onnx": _onnx, "sklearn": _sklearn, "torch": _torch, "peer": _peer}


_COLD = {
    "onnx": "from edge_distill import runtime\nm = runtime.load({path!r})\nm.predict_proba([{text!r}])",
    "sklearn": "from edge_distill.toolkit.student.store import load_student\n"
    "p = load_student({path!r}).pipeline()\np.predict_proba([{text!r}])",
    "torch": "from edge_distill.benchmarks.contenders import build\n"
    "c = build({path!r}, 'x', None, '')\nc.predict([{text!r}])",
    "peer": "from edge_distill.toolkit.peers import load_peer\nm = load_peer({path!r})\nm.predict_proba([{text!r}])",
}


def build(path: str | os.PathLike[str], name: str | None, threads: int | None, sample_text: str) -> Contender:
    """A contender for the artifact at ``path`` with ``threads`` (None: the library's default)."""
    p = Path(path)
    kind = artifact_kind(p)
    found, predict = _BUILDERS[kind](p, threads)
    return Contender(
        name=name or found,
        predict=predict,
        cold_start_code=_COLD[kind].format(path=str(p), text=sample_text),
        size_bytes=folder_bytes(p),
        meta={"path": str(p), "kind": kind},
    )
