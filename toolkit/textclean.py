"""Re-export of the one cleaning function (it lives in the runtime, which the teacher needs)."""

from edge_distill.runtime.textclean import BR_PATTERN, clean_text

__all__ = ["BR_PATTERN", "clean_text"]
