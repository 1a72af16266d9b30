"""Where onnxruntime builds disagree on the student's text ops, and how the export evens it out.

The student is exact because ``StringNormalizer`` lowercases and the ``Tokenizer`` splits like
:mod:`toolkit.features` on every code point (:mod:`exporters.student_checks` proves it for the
onnxruntime the export runs in: the reference, onnxruntime in Python on glibc Linux). Other
clients ship other builds. Measured with ``tools/probe_ops.js`` (every code point but NUL and
the surrogates, which the input cleaning replaces; see :func:`measure`):

- onnxruntime-node agrees with the reference on both ops;
- onnxruntime-web's WASM build leaves some capitals unchanged that the reference lowercases: the
  circled letters (not word characters: they separate tokens either way, so they cannot change
  an answer) and capitals added in a newer Unicode version than its own (word characters).
  Its word class agrees.

A token holding such a capital reaches the word lookup lowercased in the reference but not in
the browser. So :func:`word_variants` gives every vocabulary word holding the lowercase
letter the spellings a client produces instead, and the graph's word lookup maps them to the
same word id. The reference never produces those spellings (a capital it lowercases is never
the output of its lowercasing), so the Python answers, and parity with scikit-learn, are
unchanged; :func:`check_table` proves that before the export uses the table.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from edge_distill.exporters.student_checks import _run, all_code_points, lowercase_probe, word_class_probe
from edge_distill.runtime.atomic import atomic_write_bytes
from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.features import lower_table, python_class, word_ranges

#: The build every other one is compared with (the onnxruntime the export checks run in).
REFERENCE = "onnxruntime 1.32.0, Python 3.11, glibc 2.36 (Debian 12), linux-x86_64"

#: (first, last) code point ranges that onnxruntime-web (as measured: see CLIENTS) leaves unchanged when lowercasing
_WEB_UNCHANGED = (
    (0x24B6, 0x24CF),  # circled Latin capital letters A-Z (So: not word characters)
    (0x2C2F, 0x2C2F),  # Glagolitic capital letter caudate chrivi (Unicode 14)
    (0xA7C0, 0xA7C0),  # Latin capital letters added in Unicode 14
    (0xA7C7, 0xA7C7),
    (0xA7C9, 0xA7C9),
    (0xA7D0, 0xA7D0),
    (0xA7D6, 0xA7D6),
    (0xA7D8, 0xA7D8),
    (0xA7F5, 0xA7F5),
    (0x10570, 0x1057A),  # Vithkuqi capitals (Unicode 14)
    (0x1057C, 0x1058A),
    (0x1058C, 0x10592),
    (0x10594, 0x10595),
)

#: client -> what was measured: where it was measured, and the code points whose lowercasing
#: (code point -> the client's output) or word class (``word_added`` / ``word_removed``, as
#: code points) differ from the reference. Re-measure with ``python -m
#: edge_distill.exporters.platform_ops`` after upgrading a client.
CLIENTS: dict[str, dict] = {
    "onnxruntime-node": {
        "measured_on": "onnxruntime-node 1.30.0, Node 20.20.2, linux-x64",
        "lower": {},
        "word_added": (),
        "word_removed": (),
    },
    "onnxruntime-web": {
        "measured_on": "onnxruntime-web 1.30.0 WASM (ort-wasm-simd-threaded), under Node 20.20.2 and in Chromium 156",
        "lower": {cp: cp for a, b in _WEB_UNCHANGED for cp in range(a, b + 1)},
        "word_added": (),
        "word_removed": (),
    },
}

#: what the JavaScript clients put in place of NUL (examples/web/clean.js), which they cannot pass on
NUL_STANDIN = "\x01"

#: spellings per vocabulary word beyond which the export refuses (2**8: eight such letters)
MAX_VARIANTS = 256


class PlatformMismatch(DataError):
    """A measured difference the export cannot even out; the message names the code point."""


def lower_alternatives(clients: dict[str, dict] | None = None) -> dict[str, frozenset[str]]:
    """Reference lowercase letter -> the other letters some client lowercases its capital to."""
    clients = CLIENTS if clients is None else clients
    ref = lower_table()
    alts: dict[str, set[str]] = {}
    for info in clients.values():
        for cp, out in info["lower"].items():
            want = ref.get(cp, cp)
            if out != want:
                alts.setdefault(chr(want), set()).add(chr(out))
    return {k: frozenset(v) for k, v in alts.items()}


def check_table(word_ranges: Sequence[Sequence[int]], clients: dict[str, dict] | None = None) -> None:
    """Raise :class:`PlatformMismatch` unless word variants make every client exact.

    That holds when no client's word class differs, NUL and its stand-in are not word
    characters (so replacing one by the other changes no token), every client's lowercase output for a code
    point keeps that code point's word class, never occurs in reference-lowercased text, and
    stands for one reference letter only.
    """
    clients = CLIENTS if clients is None else clients
    ref = lower_table()
    image = {v for v in ref.values()} | {cp for cp in range(sys.maxunicode + 1) if cp not in ref}
    is_word = re.compile(f"[{python_class(word_ranges)}]")
    if is_word.match("\x00") or is_word.match(NUL_STANDIN):
        raise PlatformMismatch(
            "the word class holds U+0000 or U+0001: JavaScript clients replace NUL by U+0001 "
            "(examples/web/clean.js), which is exact only while neither is a word character"
        )
    means: dict[int, int] = {}
    for client, info in clients.items():
        if info["word_added"] or info["word_removed"]:
            first = sorted([*info["word_added"], *info["word_removed"]])[0]
            raise PlatformMismatch(f"{client}: its word class differs from the reference (first at U+{first:04X})")
        for cp, out in info["lower"].items():
            want = ref.get(cp, cp)
            if out == want:
                continue
            where = f"{client} lowercases U+{cp:04X} to U+{out:04X} (reference U+{want:04X})"
            if bool(is_word.match(chr(out))) != bool(is_word.match(chr(want))):
                raise PlatformMismatch(f"{where}: the word class changes, so tokens would differ")
            if out in image:
                raise PlatformMismatch(f"{where}: U+{out:04X} also occurs in reference-lowercased text")
            if means.setdefault(out, want) != want:
                raise PlatformMismatch(f"{where}: U+{out:04X} already stands for U+{means[out]:04X}")


def word_variants(words: Sequence[str], clients: dict[str, dict] | None = None) -> list[tuple[str, int]]:
    """``(spelling, index into words)`` for every spelling other than the word itself that a
    client's lowercasing makes of a token the reference lowercases to ``words[index]``."""
    alts = lower_alternatives(clients)
    if not alts:
        return []
    out = []
    for i, word in enumerate(words):
        if not any(ch in alts for ch in word):
            continue
        choices = [(ch, *sorted(alts.get(ch, ()))) for ch in word]
        count = 1
        for c in choices:
            count *= len(c)
        if count > MAX_VARIANTS:
            raise PlatformMismatch(
                f"vocabulary word {word!r} has {count} client spellings (more than {MAX_VARIANTS}); "
                "drop it from the vocabulary to export"
            )
        out.extend(("".join(s), i) for s in itertools.product(*choices) if "".join(s) != word)
    return out


def _table_of(probe: dict, reference_lower: dict[int, int], reference_word: set[int]) -> dict:
    """A client's entry of :data:`CLIENTS` from its probe output and the reference's."""
    got = {cp: out for cp, out in probe["lower"]}
    changed = set(got) | set(reference_lower)
    lower = {}
    for cp in sorted(changed):
        out = got.get(cp, [cp])
        if out != [reference_lower.get(cp, cp)]:
            if len(out) != 1:
                raise PlatformMismatch(f"{probe['version']} lowercases U+{cp:04X} to {len(out)} code points")
            lower[cp] = out[0]
    word = set(probe["word"])
    return {
        "measured_on": f"{probe['version']}, Node {probe['node'].lstrip('v')}, {probe['platform']}",
        "lower": lower,
        "word_added": tuple(sorted(word - reference_word)),
        "word_removed": tuple(sorted(reference_word - word)),
    }


def measure(node: str = "node", clients: Iterable[str] = ("node", "web")) -> dict[str, dict]:
    """Measure :data:`CLIENTS` afresh: the reference (this onnxruntime) and each JavaScript client
    run the graph's two ops on every code point; needs ``npm ci`` in examples/node and examples/web."""

    root = Path(__file__).resolve().parents[1] / "examples" / "web"
    cps = all_code_points()[1:]  # no NUL: the input cleaning replaces it
    lower = _run(lowercase_probe(), np.array([chr(c) for c in cps], dtype=object))
    ref_lower = {int(c): ord(y) for c, y in zip(cps, lower, strict=True) if y != chr(c)}
    tokens = _run(word_class_probe(word_ranges()), np.array(["ab" + chr(c) + "cd" for c in cps], dtype=object))
    ref_word = {int(c) for c, t in zip(cps, tokens[:, 0], strict=True) if len(t) > 2}
    names = {"node": "onnxruntime-node", "web": "onnxruntime-web"}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        atomic_write_bytes(f"{tmp}/lower.onnx", lowercase_probe().SerializeToString())
        atomic_write_bytes(f"{tmp}/word.onnx", word_class_probe(word_ranges()).SerializeToString())
        for client in clients:
            proc = subprocess.run(
                [node, str(root / "tools" / "probe_ops.js"), client, f"{tmp}/lower.onnx", f"{tmp}/word.onnx"],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"probe_ops.js {client} failed: {proc.stderr.strip()[-500:]}")
            out[names[client]] = _table_of(json.loads(proc.stdout), ref_lower, ref_word)
    return out


def main() -> int:
    """Print the measured table (to compare with, or paste over, :data:`CLIENTS`)."""
    for client, info in measure().items():
        lower = ", ".join(f"U+{a:04X}->U+{b:04X}" for a, b in info["lower"].items())
        print(f"{client} ({info['measured_on']}): {len(info['lower'])} lowercasing differences: {lower or '-'}")
        print(f"  word class: +{len(info['word_added'])} / -{len(info['word_removed'])} code points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
