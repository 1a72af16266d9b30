"""Mixed-precision variants of a teacher without quantizing it again for each one.

The fp32-node search (:func:`exporters.teacher.choose_fp32_nodes`) scores dozens of variants:
"these nodes fp32, every other candidate int8". onnxruntime's ``quantize_dynamic`` spends about
5.5 of its 7 seconds per call on the per-channel weight scales (a Python loop over 21,000
channels of the MiniLM teacher), the same numbers for every variant. Dynamic quantization
replaces each node on its own (its weight quantized, its input quantized at run time by a
``DynamicQuantizeLinear`` of the fp32 tensor it reads), so a variant is the model quantized
once with the chosen nodes' int8 groups swapped back for their fp32 nodes: the same
computation as quantizing with those nodes excluded (``tests/test_int8_gate.py`` checks the
logits are identical), in a fraction of a second. The shipped int8 file still comes from
``quantize_dynamic`` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _copy(message):
    """A detached copy of a protobuf message (nodes are small: the weights are initializers)."""
    twin = type(message)()
    twin.CopyFrom(message)
    return twin


def _int8_group(fp32_node, producer: dict[str, Any], fp32_tensors: set[str]) -> list:
    """The nodes of the quantized graph that compute ``fp32_node``'s outputs from fp32 tensors."""
    group: dict[int, Any] = {}
    stack = [o for o in fp32_node.output if o]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in group:
            continue
        group[id(node)] = node
        stack += [t for t in node.input if t and t not in fp32_tensors]
    return list(group.values())


def _dropped(group: list, nodes: list, provided: set[str]) -> set[int]:
    """Ids of the ``group`` nodes whose outputs no other node reads, but those the fp32 node
    ``provided`` again (a quantized input shared with a node that stays int8 is kept)."""
    ids = {id(n) for n in group}
    read = {t for n in nodes if id(n) not in ids for t in n.input} - provided
    return {id(n) for n in group if not read.intersection(n.output)}


def compose_int8(fp32_model, int8_model, fp32_nodes: Iterable[str]):
    """``int8_model`` (every candidate quantized) with ``fp32_nodes`` as they are in ``fp32_model``.

    Each fp32 node takes the place of the last node of its int8 group (its inputs are produced
    before it, so the graph stays in topological order); the group's weights that no node reads
    any more are dropped, the fp32 node's own added.
    """
    model = _copy(int8_model)
    graph, fgraph = model.graph, fp32_model.graph
    by_name = {n.name: n for n in fgraph.node if n.name}
    fp32_tensors = {i.name for i in fgraph.input} | {o for n in fgraph.node for o in n.output}
    nodes = [_copy(n) for n in graph.node]
    for name in fp32_nodes:
        fnode = by_name[name]
        producer = {o: n for n in nodes for o in n.output}
        drop = _dropped(_int8_group(fnode, producer, fp32_tensors), nodes, set(fnode.output))
        last = max(i for i, n in enumerate(nodes) if id(n) in drop)
        nodes = [n for n in nodes[:last] if id(n) not in drop] + [_copy(fnode)] + nodes[last + 1 :]
    del graph.node[:]
    graph.node.extend(nodes)
    _reconcile_initializers(graph, fgraph)
    return model


def _reconcile_initializers(graph, fgraph) -> None:
    """Keep the initializers some node reads; add the fp32 ones the restored nodes need."""
    read = {t for n in graph.node for t in n.input}
    have = {i.name for i in graph.initializer}
    kept = [i for i in graph.initializer if i.name in read]
    added = [i for i in fgraph.initializer if i.name in read and i.name not in have]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    produced = {o for n in graph.node for o in n.output}
    infos = [v for v in graph.value_info if v.name in produced]
    del graph.value_info[:]
    graph.value_info.extend(infos)
