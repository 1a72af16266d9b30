"""The teacher: fine-tune a Hugging Face sequence classifier, then label the transfer set.

``train`` fine-tunes and saves ``DIR/teacher/`` (``save_pretrained`` + ``training.json``);
``label`` writes raw logits for the unlabeled texts in resumable, shardable chunks;
``shards`` merges them into ``DIR/logits/logits.npz`` (see :mod:`toolkit.logits`).
Text encoding (cleaning, truncation, padding) is :mod:`runtime.truncation`, shared with the
runtime so every stage sees the same ids.
"""

from edge_distill.runtime.extras import require_extra

require_extra("train", "the teacher")  # once, here: the modules below import torch and transformers at their top
