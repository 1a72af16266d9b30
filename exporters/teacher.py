"""Export the fine-tuned teacher to one self-contained ONNX file (fp32, and int8 on request).

How (each choice measured on the MiniLM teacher, see the teacher notes):

- ``attn_implementation="eager"`` and the TorchScript exporter (``dynamo=False``): this is the
  graph onnxruntime's transformer optimizer fuses into 6 ``Attention``, 12
  ``SkipLayerNormalization`` and one ``EmbedLayerNormalization`` node (50 nodes in all). The
  SDPA attention, or ``dynamo=True`` with either attention, fuses only the layer norms
  (187-312 nodes).
- ``optimize_model(model_type="bert")`` on the exported graph, then metadata (kind, labels,
  format version, max length, truncation, the embedded ``tokenizer.json``, parity figures)
  and the checksum (:func:`runtime.integrity.seal`).
- int8: onnxruntime dynamic quantization of the fused fp32 graph, which needs
  ``DefaultTensorType=FLOAT`` (the fused nodes carry no type information for the quantizer),
  with per-channel weight scales; embeddings, pooler, classifier and the feed-forward output
  of the first third of the layers stay fp32 (per-tensor scales, int8 embeddings, or every
  feed-forward output in int8 failed the agreement gate on some teachers).

Parity gates (a failure raises :class:`ParityError` with the figures and the tolerance, and
no file is written): the fp32 file, run through :mod:`runtime` as users will, must match
PyTorch within ``1e-4`` on real reviews of many lengths (batched with padding, and batch 1
unpadded) and on adversarial texts; the int8 file must agree with fp32 on >= 99% of
``n_check`` held-out labeled reviews and lose at most 0.5 accuracy points.
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime import schema
from edge_distill.runtime.base import open_session
from edge_distill.runtime.errors import ParityError
from edge_distill.runtime.integrity import PLACEHOLDER, seal
from edge_distill.runtime.teacher import TeacherClassifier
from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.atomic import atomic_write_bytes
from edge_distill.toolkit.data import Corpus
from edge_distill.toolkit.extras import require

FUSED_OPS = ("Attention", "MultiHeadAttention", "SkipLayerNormalization", "EmbedLayerNormalization")
ADVERSARIAL = (
    "",
    "   ",
    "<br /><br />",
    "😀😂👍🔥 best film ever 🎬🍿",
    "这部电影非常好看，演员的表演令人印象深刻。映画はとても面白かった。영화가 정말 좋았어요.",
    "a",
    "terrible " * 700,
    "Ünïcödé àccents, naïve café — “quotes” and ‘apostrophes’…",
    "\u200b\u200d\ufeff zero width \t\n tabs",
)


@dataclass(frozen=True)
class Tolerances:
    """Gate limits: fp32 max |Δlogit|; int8 minimum label agreement and maximum accuracy loss."""

    fp32_max_abs: float = 1e-4
    int8_min_agreement: float = 0.99
    int8_max_accuracy_drop: float = 0.005


def _model_inputs(model, tokenizer) -> list[str]:
    import inspect

    params = set(inspect.signature(model.forward).parameters)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in params]
    if "token_type_ids" in names and "token_type_ids" not in tokenizer.model_input_names:
        names.remove("token_type_ids")
    return names


def to_onnx_graph(model, input_names: list[str], path: Path, opset: int = 17) -> None:
    """TorchScript export with dynamic batch and sequence axes (the graph the optimizer fuses)."""
    torch = require("torch", "teacher export")
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    dummies = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    axes = {n: {0: "batch", 1: "sequence"} for n in input_names}
    axes["logits"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about shapes the dynamic axes cover
        torch.onnx.export(
            model,
            tuple(dummies[n] for n in input_names),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=input_names,
            output_names=["logits"],
            dynamic_axes=axes,
            do_constant_folding=True,
        )


def fuse(path: Path, config) -> tuple[Any, dict[str, int]]:
    """onnxruntime's BERT optimizer over the exported graph; returns the model and fused-op counts."""
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(
        str(path),
        model_type="bert",
        num_heads=int(getattr(config, "num_attention_heads", 0)),
        hidden_size=int(getattr(config, "hidden_size", 0)),
    )
    counts = Counter(n.op_type for n in opt.model.graph.node)
    return opt.model, {op: counts.get(op, 0) for op in FUSED_OPS} | {"nodes": len(opt.model.graph.node)}


#: Version of the int8 recipe below; part of the run's stage key, so a changed recipe re-exports.
INT8_SCHEME = "dynamic-per-channel/fp32-embeddings-head/fp32-ffn-out-first-third"
GELU_OPS = ("Gelu", "BiasGelu", "FastGelu", "QuickGelu")


def ffn_output_matmuls(model) -> list[str]:
    """Names of each layer's feed-forward output MatMul (the one fed by the GELU), in layer order."""
    producer = {out: node for node in model.graph.node for out in node.output}
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and n.input[0] in producer and producer[n.input[0]].op_type in GELU_OPS
    ]


def int8_fp32_nodes(model, ffn_layers: int | None = None) -> list[str]:
    """The nodes int8 leaves in fp32: pooler, classifier and the FFN output of the first layers.

    The FFN output MatMul quantizes the GELU's activations, whose range is widest (per-tensor
    uint8 scales, chosen per batch); its error in the first layers travels through all later
    ones. Label agreement with fp32 on 1,000 held-out reviews, for the two MiniLM IMDB teachers
    trained with the default settings (``runs/seed`` / ``teacher-headttail-512`` in the teacher
    notes): every layer int8 0.988 / 0.991; FFN output of layer 0 in fp32 0.992 / -; of layers
    0-1 0.994 / 0.993; of 0-2 0.995 / 0.992; of every layer 0.995 / - (a third of the matmul work
    back in fp32). Default: the first third of the layers (2 of MiniLM's 6, 4 of bert-base's 12).
    """
    ffn = ffn_output_matmuls(model)
    keep = -(-len(ffn) // 3) if ffn_layers is None else ffn_layers
    head = [n.name for n in model.graph.node if "pooler" in n.name or "classifier" in n.name]
    return head + ffn[:keep]


def quantize_int8(fp32_model, workdir: Path, ffn_layers: int | None = None):
    """Dynamic int8 quantization of the fused fp32 graph, per output channel.

    Only MatMul and Attention weights are quantized, and not those :func:`int8_fp32_nodes`
    keeps. Measured on the MiniLM IMDB teacher (head+tail 256) against fp32: per-tensor scales
    agreed on 0.940 of 400 held-out reviews, per-channel on 0.988 of 1,000, per-channel with
    the word embeddings left in fp32 (no quantized EmbedLayerNormalization) on 0.992 of 1,000,
    at the same speed (the file grows from 23 to 59 MB).
    """
    onnx = require("onnx", "teacher export")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = workdir / "fp32.onnx", workdir / "int8.onnx"
    onnx.save(fp32_model, str(src))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs a pre-processing hint meant for CNNs
    try:
        quantize_dynamic(
            src,
            dst,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=int8_fp32_nodes(fp32_model, ffn_layers),
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return onnx.load(str(dst))


def teacher_metadata(teacher_dir: Path, record: dict[str, Any], labels: list[str], tokenizer) -> dict[str, str]:
    """The artifact's metadata (:mod:`runtime.schema`): kind, labels, version, the tokenizer and how it cuts."""
    tok_file = Path(teacher_dir) / "tokenizer.json"
    tok_json = tok_file.read_text(encoding="utf-8") if tok_file.is_file() else tokenizer.backend_tokenizer.to_str()
    return {
        schema.KIND: schema.TEACHER,
        schema.LABELS: json.dumps(labels),
        schema.FORMAT_VERSION: schema.FORMAT_VERSIONS[schema.TEACHER],
        schema.MAX_LENGTH: str(record["max_length"]),
        schema.TRUNCATION: record["truncation"],
        schema.TOKENIZER: tok_json,
        schema.TEACHER_VAL_ACCURACY: str(record.get("best_val_accuracy", "")),
    }


def sealed_bytes(model, meta: dict[str, str]) -> bytes:
    """Serialize ``model`` with ``meta`` and the checksum placeholder, then seal it."""
    del model.metadata_props[:]
    for k, v in {**meta, schema.CHECKSUM: PLACEHOLDER}.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = k, v
    return seal(model.SerializeToString())


def _open(data: bytes, name: str, threads: int | None) -> TeacherClassifier:
    sess, meta = open_session(data, name, threads=threads)
    return TeacherClassifier.from_session(Path(name), sess, meta)


def parity_texts(heldout: Corpus, n: int = 48) -> list[str]:
    """Real reviews spanning the length range (shortest to longest), plus adversarial texts."""
    if len(heldout) == 0:
        return list(ADVERSARIAL)
    order = np.argsort([len(t) for t in heldout.texts], kind="stable")
    pick = np.unique(np.linspace(0, len(order) - 1, min(n, len(order))).round().astype(int))
    return [heldout.texts[order[i]] for i in pick] + list(ADVERSARIAL)


def check_fp32(
    model, encoder: TeacherEncoder, clf: TeacherClassifier, texts: list[str], tol: float, n_single: int = 12
) -> dict[str, Any]:
    """Max |Δlogit| between PyTorch and the runtime: batched (padded) and batch 1 (unpadded)."""
    from edge_distill.toolkit.teacher.inference import torch_logits

    rows = encoder.encode(texts)
    ref = torch_logits(model, encoder, rows)
    got = clf.logits(texts)
    single_idx = np.unique(np.linspace(0, len(rows) - 1, min(n_single, len(rows))).round().astype(int))
    got1 = np.concatenate([clf.logits_of_ids([rows[i]], 1) for i in single_idx])
    ref1 = np.concatenate([torch_logits(model, encoder, [rows[i]], batch_size=1) for i in single_idx])
    figures = {
        "texts": len(texts),
        "max_abs_batched": float(np.abs(ref - got).max()),
        "max_abs_batch1": float(np.abs(ref1 - got1).max()),
        "batch1_texts": len(single_idx),
        "max_tokens": max(len(r) for r in rows),
        "min_tokens": min(len(r) for r in rows),
        "tolerance": tol,
    }
    worst = max(figures["max_abs_batched"], figures["max_abs_batch1"])
    if not np.isfinite(worst) or worst > tol:
        raise ParityError(
            f"fp32 teacher parity failed: max |Δlogit| vs PyTorch = {worst:.3g} "
            f"(batched {figures['max_abs_batched']:.3g}, batch-1 unpadded {figures['max_abs_batch1']:.3g}) "
            f"> tolerance {tol:g} on {len(texts)} texts of {figures['min_tokens']}-{figures['max_tokens']} tokens"
        )
    return figures


def check_int8(fp32: TeacherClassifier, int8: TeacherClassifier, heldout: Corpus, tol: Tolerances) -> dict[str, Any]:
    """Label agreement and accuracy of int8 against fp32 on held-out labeled reviews."""
    if len(heldout) == 0:
        raise ParityError("int8 gate needs held-out labeled reviews; none were given")
    a = fp32.logits(heldout.texts).argmax(1)
    b = int8.logits(heldout.texts).argmax(1)
    adv = int8.logits(list(ADVERSARIAL))
    figures = {
        "reviews": len(heldout),
        "agreement": float(np.mean(a == b)),
        "accuracy_fp32": float(np.mean(a == heldout.labels)),
        "accuracy_int8": float(np.mean(b == heldout.labels)),
        "min_agreement": tol.int8_min_agreement,
        "max_accuracy_drop": tol.int8_max_accuracy_drop,
    }
    drop = figures["accuracy_fp32"] - figures["accuracy_int8"]
    if not np.all(np.isfinite(adv)):
        raise ParityError("int8 teacher gives non-finite logits on adversarial texts")
    if figures["agreement"] < tol.int8_min_agreement or drop > tol.int8_max_accuracy_drop:
        raise ParityError(
            f"int8 teacher parity failed on {len(heldout)} held-out reviews: label agreement with fp32 "
            f"{figures['agreement']:.4f} (minimum {tol.int8_min_agreement}), accuracy {figures['accuracy_int8']:.4f} "
            f"vs fp32 {figures['accuracy_fp32']:.4f}, drop {drop:.4f} (maximum {tol.int8_max_accuracy_drop})"
        )
    return figures


def export_teacher(
    teacher_dir: str | Path,
    out: str | Path,
    *,
    int8_out: str | Path | None = None,
    heldout: Corpus | None = None,
    tolerances: Tolerances | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Export, gate and write ``out`` (fp32) and, with ``int8_out``, the int8 file; return the figures."""
    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, pick_device, read_record

    tol = tolerances or Tolerances()
    teacher_dir, out = Path(teacher_dir), Path(out)
    record = read_record(teacher_dir)
    pick_device(threads)
    tokenizer = load_tokenizer(str(teacher_dir))
    model = load_classifier(str(teacher_dir), attn="eager").eval()
    encoder = TeacherEncoder(
        tokenizer.backend_tokenizer, record["max_length"], record["truncation"], tokenizer.pad_token_id
    )
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    heldout = heldout if heldout is not None else Corpus([], np.zeros(0, np.int64), tuple(labels))
    meta = teacher_metadata(teacher_dir, record, labels, tokenizer)
    report: dict[str, Any] = {"labels": labels, "max_length": record["max_length"], "truncation": record["truncation"]}
    with tempfile.TemporaryDirectory(prefix="edge-distill-teacher-") as tmp:
        work = Path(tmp)
        to_onnx_graph(model, _model_inputs(model, tokenizer), work / "raw.onnx")
        fused, counts = fuse(work / "raw.onnx", model.config)
        report["fused"] = counts
        texts = parity_texts(heldout)
        probe = _open(sealed_bytes(fused, {**meta, schema.PRECISION: "fp32"}), str(out), threads)
        report["fp32"] = check_fp32(model, encoder, probe, texts, tol.fp32_max_abs)
        fp32_bytes = sealed_bytes(fused, {**meta, schema.PRECISION: "fp32", schema.PARITY: json.dumps(report["fp32"])})
        fp32 = _open(fp32_bytes, str(out), threads)
        int8_bytes = None
        if int8_out is not None:
            qmodel = quantize_int8(fused, work)
            qprobe = _open(sealed_bytes(qmodel, {**meta, schema.PRECISION: "int8"}), str(int8_out), threads)
            report["int8"] = {
                **check_int8(fp32, qprobe, heldout, tol),
                "scheme": INT8_SCHEME,
                "fp32_nodes": int8_fp32_nodes(fused),
            }
            int8_bytes = sealed_bytes(
                qmodel, {**meta, schema.PRECISION: "int8", schema.PARITY: json.dumps(report["int8"])}
            )
    # every gate passed: now (and only now) write the files
    atomic_write_bytes(out, fp32_bytes)
    report["fp32"]["path"], report["fp32"]["bytes"] = str(out), len(fp32_bytes)
    if int8_bytes is not None:
        atomic_write_bytes(int8_out, int8_bytes)
        report["int8"]["path"], report["int8"]["bytes"] = str(int8_out), len(int8_bytes)
    return report
