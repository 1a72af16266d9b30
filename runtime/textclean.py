"""The one text-cleaning function every model sees (baseline, teacher, student).

It lives in the runtime because the teacher runtime must clean text exactly as training did;
the training side imports it from here.

IMDB reviews carry HTML line breaks (``<br />``) and ragged whitespace. ``clean_text`` turns
each line-break tag into a space and collapses whitespace runs; it changes nothing else, so
it is safe on any corpus. The student's ONNX graph implements the same tag rule (see
``BR_PATTERN``), which is why the pattern is spelled with explicit ASCII whitespace: RE2's
``\\s`` and Python's differ outside ASCII.
"""

from __future__ import annotations

import re

#: An HTML line break, any case: ``<br>``, ``<br/>``, ``<BR />``.
BR_PATTERN = r"<br[ \t\n\r\f]*/?>"
#: The same rule spelled for regex engines without a case-insensitive flag (the student's RE2 graph).
BR_ANY_CASE = BR_PATTERN.replace("<br", "<[bB][rR]", 1)
_BR = re.compile(BR_PATTERN, re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Replace HTML line breaks with spaces and collapse whitespace; strip the ends."""
    if not isinstance(text, str):
        raise TypeError(f"clean_text expects str, got {type(text).__name__}")
    return _SPACE.sub(" ", _BR.sub(" ", text)).strip()
