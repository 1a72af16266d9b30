"""Export the fine-tuned teacher to one self-contained ONNX file (fp32, and int8 on request).

How (each choice measured on the MiniLM teacher: the dated notes under ``experiments/``):

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
  with per-channel weight scales; embeddings, pooler and classifier stay fp32. Which other
  MatMul/Attention nodes stay fp32 is *measured* per teacher (:func:`choose_fp32_nodes`): each
  node's logit error when it alone is int8 ranks them, and the k most sensitive go back to fp32
  (k = 1, 2, 4, ..., then a bisection for the fewest) until int8 passes the agreement criterion
  on calibration texts (unlabeled or held-out train texts, never test, disjoint from the
  gate's), or a cap is reached. The teacher is quantized once for the whole search and each
  variant composed from it (:mod:`exporters.int8_compose`). A fixed
  recipe (the first third of the feed-forward outputs) passed some teachers and not others.

Parity gates (a failure raises :class:`ParityError` with the figures and the tolerance, and
no file is written): the fp32 file, run through :mod:`runtime` as users will, must match
PyTorch within ``1e-4`` on real reviews of many lengths (batched with padding, and batch 1
unpadded) and on adversarial texts; for the int8 file the lower end of the 95% Wilson interval
of its label agreement with fp32 (on the held-out labeled reviews plus any extra unlabeled
texts) must reach ``Tolerances.int8_min_agreement`` (0.985), so a 1,000-text agreement of 0.989
is neither a pass nor a fail decided by noise at a 0.99 edge, and it may lose at most 0.5
accuracy points on the labeled reviews.
"""

from __future__ import annotations

import inspect
import json
import logging
import tempfile
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.exporters.adversarial import ADVERSARIAL
from edge_distill.exporters.int8_compose import compose_int8
from edge_distill.runtime import schema
from edge_distill.runtime.atomic import atomic_write_bytes
from edge_distill.runtime.base import open_session
from edge_distill.runtime.errors import ParityError
from edge_distill.runtime.extras import require
from edge_distill.runtime.integrity import PLACEHOLDER, seal
from edge_distill.runtime.teacher import TeacherClassifier
from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.data import Corpus
from edge_distill.toolkit.evaluate import wilson_ci
from edge_distill.toolkit.options import AUTO, TeacherExportOptions
from edge_distill.toolkit.teacher.heldout import GateTexts

FUSED_OPS = ("Attention", "MultiHeadAttention", "SkipLayerNormalization", "EmbedLayerNormalization")


#: the tokens of a text the fp32-node search reads (the first ones, and the last: [SEP])
SEARCH_TOKENS = 128
#: the fewest calibration texts a token budget leaves the search (where that many are given)
SEARCH_MIN_TEXTS = 1000
#: the search's token budget (the default; ``--calibration auto``): what 1,000 long texts cost it
AUTO_SEARCH_TOKENS = SEARCH_MIN_TEXTS * SEARCH_TOKENS
#: the search first scores every SCREEN_EVERY-th batch of a step's calibration texts, and refuses the
#: step there when its agreement interval lies wholly below the target (:meth:`_Search.score`); only
#: with at least SCREEN_MIN_TEXTS texts, so that the screen holds enough texts to refuse anything
SCREEN_EVERY = 4
SCREEN_MIN_TEXTS = 2000


@dataclass(frozen=True)
class Tolerances:
    """Gate limits.

    ``fp32_max_abs``: max |Δlogit| of the fp32 file vs PyTorch. ``int8_min_agreement``: the
    lower end of the ``confidence`` Wilson interval of int8's label agreement with fp32 must
    reach it (0.985: with 3,000 texts an observed 0.992 passes with margin, 0.989 does not).
    ``int8_max_accuracy_drop``: int8 is refused where the data show it loses more accuracy
    than this: the lower end of the interval of the paired accuracy difference on the labeled
    texts (a point estimate of a few flips in a thousand would decide the gate by noise). The agreement
    bound already caps the loss (a label that never flips cannot become wrong).
    ``int8_select_margin``: the fp32-node search stops where the calibration agreement is this
    far above ``int8_min_agreement`` (and its bound passes), so that the gate, on other texts,
    is not decided by noise (a search that stops at a bare pass leaves the gate a coin toss).
    ``int8_max_mean_abs_dlogit``: optional cap on the mean |Δlogit| (the
    student learns from logits, not only labels). ``int8_max_fp32_nodes``: cap on the nodes
    the selection may keep in fp32 (None: half of them). ``int8_search_tokens``: the search reads
    the calibration texts (each cut to :data:`SEARCH_TOKENS`) up to this many tokens, at least
    :data:`SEARCH_MIN_TEXTS` texts (default :data:`AUTO_SEARCH_TOKENS`; None: every text given):
    short texts then get more of them at the cost of fewer long ones (a search over few short
    texts can stop on a lucky agreement that the gate's texts then refuse).
    """

    fp32_max_abs: float = 1e-4
    int8_min_agreement: float = 0.985
    int8_max_accuracy_drop: float = 0.005
    confidence: float = 0.95
    int8_max_mean_abs_dlogit: float | None = None
    int8_max_fp32_nodes: int | None = None
    int8_select_margin: float = 0.01
    int8_search_tokens: int | None = AUTO_SEARCH_TOKENS


def _model_inputs(model, tokenizer) -> list[str]:

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
INT8_SCHEME = (
    "dynamic-per-channel/fp32-embeddings-head/fp32-nodes-by-measured-sensitivity/gallop-bisect/wilson-lower-bound"
)
GELU_OPS = ("Gelu", "BiasGelu", "FastGelu", "QuickGelu")
QUANTIZED_OPS = ("MatMul", "Attention")


def ffn_output_matmuls(model) -> list[str]:
    """Names of each layer's feed-forward output MatMul (the one fed by the GELU), in layer order."""
    producer = {out: node for node in model.graph.node for out in node.output}
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and n.input[0] in producer and producer[n.input[0]].op_type in GELU_OPS
    ]


def head_nodes(model) -> list[str]:
    """The pooler and classifier nodes: always fp32 (a few KB of weights that decide every label)."""
    return [n.name for n in model.graph.node if "pooler" in n.name or "classifier" in n.name]


def quantizable_nodes(model) -> list[str]:
    """The MatMul/Attention nodes with a constant weight outside the head: the candidates for int8."""
    weights = {t.name for t in model.graph.initializer}
    head = set(head_nodes(model))
    return [
        n.name
        for n in model.graph.node
        if n.op_type in QUANTIZED_OPS and n.name not in head and len(n.input) > 1 and n.input[1] in weights
    ]


def int8_fp32_nodes(model, ffn_layers: int | None = None) -> list[str]:
    """A fixed recipe (kept as the benchmark's baseline): head + first FFN outputs.

    The FFN output MatMul quantizes the GELU's activations, whose range is widest (per-tensor
    uint8 scales, chosen per batch); its error in the first layers travels through all later
    ones. It passed some teachers and not others, hence the measured choice of
    :func:`choose_fp32_nodes`.
    """
    ffn = ffn_output_matmuls(model)
    keep = -(-len(ffn) // 3) if ffn_layers is None else ffn_layers
    return head_nodes(model) + ffn[:keep]


def quantize_int8(fp32_model, workdir: Path, ffn_layers: int | None = None, *, fp32_nodes: list[str] | None = None):
    """Dynamic int8 quantization of the fused fp32 graph, per output channel.

    Only MatMul and Attention weights are quantized, never the head's, and not ``fp32_nodes``
    (default: the fixed recipe :func:`int8_fp32_nodes` with ``ffn_layers``). Per-channel scales
    and fp32 word embeddings (no quantized EmbedLayerNormalization) agree with fp32 far more often
    than per-tensor scales, at the same speed.
    """
    onnx = require("onnx", "teacher export")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    exclude = int8_fp32_nodes(fp32_model, ffn_layers) if fp32_nodes is None else head_nodes(fp32_model) + fp32_nodes
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
            nodes_to_exclude=exclude,
            op_types_to_quantize=list(QUANTIZED_OPS),
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return onnx.load(str(dst))


def agreement_figures(ref: np.ndarray, got: np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """Label agreement of ``got`` with ``ref`` logits, its Wilson interval, and the logit error."""

    same = ref.argmax(1) == got.argmax(1)
    lo, hi = wilson_ci(int(same.sum()), len(same), confidence)
    diff = np.abs(np.asarray(got, np.float64) - ref)
    return {
        "texts": len(same),
        "agreement": float(same.mean()) if len(same) else 0.0,
        "agreement_ci": [lo, hi],
        "confidence": confidence,
        "mean_abs_dlogit": float(diff.mean()) if diff.size else 0.0,
        "max_abs_dlogit": float(diff.max()) if diff.size else 0.0,
    }


def int8_passes(figures: dict[str, Any], tol: Tolerances) -> bool:
    """The int8 agreement criterion: the interval's lower end (not the point estimate) reaches the minimum."""
    ok = figures["agreement_ci"][0] >= tol.int8_min_agreement
    cap = tol.int8_max_mean_abs_dlogit
    return ok and (cap is None or figures["mean_abs_dlogit"] <= cap)


def accuracy_drop(ref: np.ndarray, got: np.ndarray, labels: np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """fp32's accuracy minus int8's on labeled texts, with an interval from the discordant pairs.

    Only texts where exactly one of the two is right move the difference: given ``m`` of them,
    the ``b`` where fp32 is the right one are binomial, so the Wilson interval of b / m maps to
    ``m / n * (2p - 1)``.
    """
    fp32_ok, int8_ok = ref.argmax(1) == labels, got.argmax(1) == labels
    b, c, n = int(np.sum(fp32_ok & ~int8_ok)), int(np.sum(int8_ok & ~fp32_ok)), len(labels)
    m = b + c
    lo, hi = wilson_ci(b, m, confidence) if m else (0.5, 0.5)
    return {
        "accuracy_fp32": float(fp32_ok.mean()),
        "accuracy_int8": float(int8_ok.mean()),
        "accuracy_drop": (b - c) / n,
        "accuracy_drop_ci": [m / n * (2 * lo - 1), m / n * (2 * hi - 1)],
        "only_fp32_right": b,
        "only_int8_right": c,
    }


class Int8Variants:
    """Mixed-precision variants of one fused teacher for the fp32-node search: quantized once
    (:func:`quantize_int8`, every candidate int8), each variant composed from that
    (:func:`exporters.int8_compose.compose_int8`: the same logits, at a fraction of quantizing each variant)."""

    def __init__(self, fused, work: Path, meta: dict[str, str], threads: int | None = None):
        self.fused, self.work, self.meta, self.threads = fused, work, meta, threads
        self._all = None

    def classifier(self, fp32_nodes: list[str]) -> TeacherClassifier:
        """The variant with ``fp32_nodes`` (and the head) in fp32, every other candidate int8."""
        if self._all is None:
            self._all = quantize_int8(self.fused, self.work, fp32_nodes=[])
        model = compose_int8(self.fused, self._all, fp32_nodes)
        return _open(sealed_bytes(model, {**self.meta, schema.PRECISION: "int8"}), "int8-probe", self.threads)

    def logits(self, fp32_nodes: list[str], rows) -> np.ndarray:
        return self.classifier(fp32_nodes).logits_of_ids(rows)

    def logits_of_batches(self, fp32_nodes: list[str], rows, batches: list[np.ndarray]) -> np.ndarray:
        return self.classifier(fp32_nodes).logits_of_batches(rows, batches)

    batch_plan = staticmethod(TeacherClassifier.batch_plan)


def rank_sensitivity(variants: Int8Variants, rows, ref: np.ndarray) -> list[dict]:
    """Each candidate node's error when it alone is int8 (all others fp32), most harmful first.

    The error is the mean |Δlogit| against fp32 (continuous, so a few hundred texts rank the
    nodes; label flips on so few texts are mostly zero and are kept as a second key).
    """
    candidates = quantizable_nodes(variants.fused)
    ranking = []
    for node in candidates:
        got = variants.logits([c for c in candidates if c != node], rows)
        flips = int(np.sum(got.argmax(1) != ref.argmax(1)))
        ranking.append({"node": node, "mean_abs_dlogit": float(np.abs(got - ref).mean()), "flips": flips})
    return sorted(ranking, key=lambda r: (-r["mean_abs_dlogit"], -r["flips"], r["node"]))


def _within_budget(rows: list, budget: int | None) -> list:
    """The leading ``rows`` whose token count fits ``budget`` (at least SEARCH_MIN_TEXTS of them)."""
    if budget is None:
        return rows
    fits = int(np.searchsorted(np.cumsum([len(r) for r in rows]), budget, side="right"))
    return rows[: max(fits, SEARCH_MIN_TEXTS)]


def gallop_order(cap: int) -> list[int]:
    """The numbers of fp32 nodes the search tries first: 1, 2, 4, 8, ... and the cap."""
    ks, k = [], 1
    while k < cap:
        ks.append(k)
        k *= 2
    return [*ks, cap] if cap >= 1 else []


class _Search:
    """The steps of :func:`choose_fp32_nodes`: each k scored once, ``figures`` in the order tried."""

    def __init__(self, variants: Int8Variants, rows, ref: np.ndarray, tol: Tolerances):
        self.variants, self.rows, self.ref, self.tol = variants, rows, ref, tol
        self.plan = variants.batch_plan(rows)  # the batches every step is scored in (they depend on rows only)
        self.ranking: list[dict] | None = None
        self.figures: dict[int, dict[str, Any]] = {}

    @property
    def steps(self) -> list[dict[str, Any]]:
        return [{"fp32_nodes": k, **fig} for k, fig in self.figures.items()]

    def nodes(self, k: int) -> list[str]:
        return [r["node"] for r in self.ranking[:k]] if self.ranking else []

    @property
    def target(self) -> float:
        """The calibration agreement a number of fp32 nodes must reach: the gate's minimum plus the margin."""
        return self.tol.int8_min_agreement + self.tol.int8_select_margin

    def accepts(self, k: int) -> bool:
        """Score k fp32 nodes (once): the criterion passes with the selection margin."""
        if k not in self.figures:
            self.figures[k] = self.score(k)
        fig = self.figures[k]
        return int8_passes(fig, self.tol) and fig["agreement"] >= self.target

    def score(self, k: int) -> dict[str, Any]:
        """k's agreement figures on every row, run in the batches labeling would run them in.

        Where there are at least :data:`SCREEN_MIN_TEXTS` rows, every :data:`SCREEN_EVERY`-th
        batch is scored first (all lengths, the logits a full call gives those rows: int8 picks its
        activation scales per batch, so other batches would measure another model), and a k whose
        upper bound there misses the target is refused (``"screened"``): it could pass only by the
        chance of a 95% interval missing, and a wrong refusal keeps more nodes in fp32, nothing worse.
        Otherwise the other batches are scored too: a step that is not refused costs what it did.
        """
        plan, got = self.plan, np.zeros_like(self.ref)
        if len(self.rows) >= SCREEN_MIN_TEXTS:
            screen = self._score_batches(k, plan[::SCREEN_EVERY], got)
            fig = agreement_figures(self.ref[screen], got[screen], self.tol.confidence)
            if fig["agreement_ci"][1] < self.target:
                return {**fig, "screened": True}
            plan = [b for i, b in enumerate(plan) if i % SCREEN_EVERY]
        self._score_batches(k, plan, got)
        return agreement_figures(self.ref, got, self.tol.confidence)

    def _score_batches(self, k: int, batches: list[np.ndarray], got: np.ndarray) -> np.ndarray:
        """Write k's logits of the rows in ``batches`` into ``got``; their indices."""
        idx = np.concatenate(batches) if batches else np.zeros(0, np.int64)
        got[idx] = self.variants.logits_of_batches(self.nodes(k), self.rows, batches)
        return idx

    def smallest_accepted(self, cap: int) -> int:
        """Gallop (1, 2, 4, ... cap) to the first accepted k, then bisect down to the fewest nodes
        between it and the last refused one; where no gallop point is accepted (agreement is not
        monotone in k), every other k up to the cap in turn, as a linear search would."""
        lo, gallop = 0, gallop_order(cap)
        for k in gallop:
            if self.accepts(k):
                hi = k
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if self.accepts(mid) else (mid, hi)
                return hi
            lo = k
        return next((k for k in range(1, cap + 1) if k not in gallop and self.accepts(k)), cap)


def choose_fp32_nodes(
    fused, work: Path, meta: dict[str, str], texts: list[str], tol: Tolerances, *, rank_texts: int = 256, threads=None
) -> dict[str, Any]:
    """The nodes int8 keeps in fp32, chosen on calibration ``texts`` (no labels needed; never test texts).

    Everything quantized first; if that misses :func:`int8_passes` or falls short of the
    margin ``tol.int8_select_margin``, the nodes ranked by :func:`rank_sensitivity` (on the
    first ``rank_texts`` texts) go back to fp32, most sensitive first: k = 1, 2, 4, ... nodes
    until k passes with the margin, then a bisection for fewer (:meth:`_Search.smallest_accepted`;
    emotion's linear search scored 13 k's to keep 12 nodes, this one 8), up to
    ``tol.int8_max_fp32_nodes`` (default: half the candidates). The gate then decides once, on
    its own texts. The search reads at most :data:`SEARCH_TOKENS` tokens of each text (IMDB's
    512-token search did not finish in 35 minutes on a shared CPU); the gate reads them whole.
    """
    fp32 = _open(sealed_bytes(fused, {**meta, schema.PRECISION: "fp32"}), "fp32-probe", threads)
    rows = [r if len(r) <= SEARCH_TOKENS else r[: SEARCH_TOKENS - 1] + r[-1:] for r in fp32.encoder.encode(list(texts))]
    rows = _within_budget(rows, tol.int8_search_tokens)
    ref = fp32.logits_of_ids(rows)
    n_cand = len(quantizable_nodes(fused))
    cap = -(-n_cand // 2) if tol.int8_max_fp32_nodes is None else min(tol.int8_max_fp32_nodes, n_cand)
    search = _Search(Int8Variants(fused, work, meta, threads), rows, ref, tol)
    k = 0
    if not search.accepts(0) and cap > 0:
        n = min(rank_texts, len(rows))
        search.ranking = rank_sensitivity(search.variants, rows[:n], ref[:n])
        k = search.smallest_accepted(cap)
    return {
        "fp32_nodes": search.nodes(k),
        "passed": int8_passes(search.figures[k], tol),
        "calibration_texts": len(rows),
        "candidates": n_cand,
        "cap": cap,
        "ranking": search.ranking,
        "steps": search.steps,
        "chosen": k,
    }


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


def check_int8(
    fp32: TeacherClassifier,
    int8: TeacherClassifier,
    heldout: Corpus,
    tol: Tolerances,
    agreement_texts: Sequence[str] = (),
) -> dict[str, Any]:
    """The int8 gate: label agreement with fp32 (Wilson interval) and accuracy on held-out reviews.

    Agreement needs no labels, so it is measured on the labeled ``heldout`` reviews plus any
    unlabeled ``agreement_texts`` (where the labeled pool is small); accuracy on ``heldout`` only.
    """
    if len(heldout) == 0:
        raise ParityError("int8 gate needs held-out labeled reviews; none were given")
    texts = list(heldout.texts) + list(agreement_texts)
    ref, got = fp32.logits(texts), int8.logits(texts)
    n = len(heldout)
    figures = {
        **agreement_figures(ref, got, tol.confidence),
        "reviews": n,
        **accuracy_drop(ref[:n], got[:n], heldout.labels, tol.confidence),
        "min_agreement": tol.int8_min_agreement,
        "max_accuracy_drop": tol.int8_max_accuracy_drop,
        "max_mean_abs_dlogit": tol.int8_max_mean_abs_dlogit,
        "decision": f"pass if the {tol.confidence:.0%} Wilson lower bound of agreement >= {tol.int8_min_agreement:g} "
        f"and the lower bound of the accuracy drop <= {tol.int8_max_accuracy_drop:g}",
    }
    if not np.all(np.isfinite(int8.logits(list(ADVERSARIAL)))):
        raise ParityError("int8 teacher gives non-finite logits on adversarial texts")
    drop_lo, drop_hi = figures["accuracy_drop_ci"]
    if not int8_passes(figures, tol) or drop_lo > tol.int8_max_accuracy_drop:
        lo, hi = figures["agreement_ci"]
        cap = tol.int8_max_mean_abs_dlogit
        dlogit = "" if cap is None else f", mean |Δlogit| {figures['mean_abs_dlogit']:.3g} (maximum {cap:g})"
        raise ParityError(
            f"int8 teacher parity failed on {len(texts)} held-out texts ({n} labeled): label agreement with fp32 "
            f"{figures['agreement']:.4f}, {tol.confidence:.0%} Wilson interval {lo:.4f}-{hi:.4f} (tolerance: lower "
            f"bound >= {tol.int8_min_agreement:g}){dlogit}; accuracy {figures['accuracy_int8']:.4f} vs fp32 "
            f"{figures['accuracy_fp32']:.4f}, drop {figures['accuracy_drop']:.4f}, interval {drop_lo:.4f} to "
            f"{drop_hi:.4f} (tolerance: lower bound <= {tol.int8_max_accuracy_drop:g})"
        )
    return figures


def export_teacher(
    teacher_dir: str | Path,
    out: str | Path,
    *,
    int8_out: str | Path | None = None,
    heldout: Corpus | None = None,
    calibration: Sequence[str] | None = None,
    agreement_texts: Sequence[str] = (),
    tolerances: Tolerances | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Export, gate and write ``out`` (fp32) and, with ``int8_out``, the int8 file; return the figures.

    ``heldout``: labeled reviews for the gates. ``calibration``: held-out train texts, disjoint
    from ``heldout``, on which the int8 fp32 nodes are chosen (default: the gate's texts, which
    the report then marks as not independent). ``agreement_texts``: extra unlabeled texts for
    the int8 agreement.
    """
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
    gate = Int8Gate(heldout, calibration, agreement_texts, tol, threads)
    try:
        fp32_bytes, int8_bytes = _gated_bytes(model, tokenizer, encoder, meta, report, gate, str(out), int8_out)
    except ParityError as exc:  # the one place that knows no file has been written yet
        raise ParityError(f"{exc}; nothing was written") from exc
    # every gate passed: now (and only now) write the files
    atomic_write_bytes(out, fp32_bytes)
    report["fp32"]["path"], report["fp32"]["bytes"] = str(out), len(fp32_bytes)
    if int8_bytes is not None:
        atomic_write_bytes(int8_out, int8_bytes)
        report["int8"]["path"], report["int8"]["bytes"] = str(int8_out), len(int8_bytes)
    return report


def _gated_bytes(
    model,
    tokenizer,
    encoder: TeacherEncoder,
    meta: dict[str, str],
    report: dict[str, Any],
    gate: Int8Gate,
    out: str,
    int8_out: str | Path | None,
) -> tuple[bytes, bytes | None]:
    """The sealed fp32 (and, with ``int8_out``, int8) bytes, each after its parity gate passed; the
    figures go to ``report``."""
    with tempfile.TemporaryDirectory(prefix="edge-distill-teacher-") as tmp:
        work = Path(tmp)
        to_onnx_graph(model, _model_inputs(model, tokenizer), work / "raw.onnx")
        fused, counts = fuse(work / "raw.onnx", model.config)
        report["fused"] = counts
        texts = parity_texts(gate.heldout)
        probe = _open(sealed_bytes(fused, {**meta, schema.PRECISION: "fp32"}), out, gate.threads)
        report["fp32"] = check_fp32(model, encoder, probe, texts, gate.tol.fp32_max_abs)
        fp32_bytes = sealed_bytes(fused, {**meta, schema.PRECISION: "fp32", schema.PARITY: json.dumps(report["fp32"])})
        fp32 = _open(fp32_bytes, out, gate.threads)
        int8_bytes = None
        if int8_out is not None:
            report["int8"], qmodel = _export_int8(fused, work, meta, fp32, gate, str(int8_out))
            int8_bytes = sealed_bytes(
                qmodel, {**meta, schema.PRECISION: "int8", schema.PARITY: json.dumps(report["int8"])}
            )
    return fp32_bytes, int8_bytes


@dataclass(frozen=True)
class Int8Gate:
    """The texts and limits of the int8 export (see :func:`export_teacher`)."""

    heldout: Corpus
    calibration: Sequence[str] | None
    agreement_texts: Sequence[str]
    tol: Tolerances
    threads: int | None = None


def _export_int8(fused, work: Path, meta: dict[str, str], fp32: TeacherClassifier, gate: Int8Gate, name: str):
    """Choose the fp32 nodes on the calibration texts, quantize, and run the gate once on its own texts."""
    if len(gate.heldout) == 0:
        raise ParityError("int8 gate needs held-out labeled reviews; none were given")
    independent = gate.calibration is not None and len(gate.calibration) > 0
    cal = list(gate.calibration) if independent else list(gate.heldout.texts) + list(gate.agreement_texts)
    selection = choose_fp32_nodes(fused, work, meta, cal, gate.tol, threads=gate.threads)
    selection["independent_of_gate"] = independent
    qmodel = quantize_int8(fused, work, fp32_nodes=selection["fp32_nodes"])
    qprobe = _open(sealed_bytes(qmodel, {**meta, schema.PRECISION: "int8"}), name, gate.threads)
    figures = {
        **check_int8(fp32, qprobe, gate.heldout, gate.tol, gate.agreement_texts),
        "scheme": INT8_SCHEME,
        "fp32_nodes": head_nodes(fused) + selection["fp32_nodes"],
        "selection": selection,
    }
    return figures, qmodel


def export_with_options(
    teacher_dir: str | Path, out: str | Path, gate: GateTexts, options: TeacherExportOptions, *, int8_out=None
) -> dict[str, Any]:
    """:func:`export_teacher` with the gates' settings of ``options`` (``--check``, ``--min-agreement``,
    ``--calibration auto``, ...) and the texts of ``gate``: what ``export teacher`` and ``run`` do."""
    tol = Tolerances(
        options.fp32_tolerance,
        options.min_agreement,
        options.max_accuracy_drop,
        int8_search_tokens=AUTO_SEARCH_TOKENS if options.calibration == AUTO else None,
    )
    return export_teacher(
        teacher_dir,
        out,
        int8_out=int8_out,
        heldout=gate.check,
        calibration=gate.calibration or None,
        agreement_texts=gate.agreement,
        tolerances=tol,
        threads=options.threads,
    )
