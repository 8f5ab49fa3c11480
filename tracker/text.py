"""Text is clean (SPEC §7): trimmed, then judged.  Knows no domain.

A single-line value (a title, a name, a file name) holds no control character (C0 but tab,
DEL, C1) and no bidirectional override, embedding or isolate (which can make
``report\u202eFDP.txt`` show as ``reporttxt.PDF``).  A multi-line value (a description, a
comment) may also hold line breaks.  Leading and trailing whitespace (U+3000 included) is
trimmed, never an error.  The API's fields, the page forms and the importer all judge text
here, so the rule lives once.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

#: C0 but tab, DEL and C1; lone surrogates (never text).
_LINE_BAD = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same, line breaks allowed.
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: Bidirectional embeddings, overrides and isolates (LRE…RLO, LRI…PDI).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

LINE_MESSAGE = _l("Must be one line without control characters.")
TEXT_MESSAGE = _l("Must not hold control characters other than line breaks and tabs.")
BIDI_MESSAGE = _l("Must not hold bidirectional override characters.")


def problem(text: str, *, multiline: bool = False) -> Any:
    """Why ``text`` is not clean (a lazy message in the reader's language), or None."""
    if (_TEXT_BAD if multiline else _LINE_BAD).search(text):
        return TEXT_MESSAGE if multiline else LINE_MESSAGE
    if _BIDI.search(text):
        return BIDI_MESSAGE
    return None


def trim(text: str) -> str:
    """``text`` without leading and trailing whitespace (ideographic space included)."""
    return text.strip()
