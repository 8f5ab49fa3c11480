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
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l

#: Unicode's noncharacters (U+FDD0–FDEF and the last two code points of every plane): never
#: text to interchange, refused as control characters are.
_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
#: C0 but tab, DEL and C1; lone surrogates (never text); the line and paragraph separators
#: U+2028/U+2029 (line breaks that JavaScript and many readers treat as such); noncharacters.
_LINE_BAD = re.compile(
    f"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029{_NONCHARACTERS}]")
#: The same, line breaks (LF, CR) allowed.
_TEXT_BAD = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029{_NONCHARACTERS}]")
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


# --- usernames ---------------------------------------------------------------------------

#: Characters that show nothing although they are not spaces (Hangul fillers, braille blank).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: Scripts whose letters look alike and so may not mix in one username.
_SCRIPT_WORDS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC")

USERNAME_MESSAGE = _l("A username may not hold spaces or invisible characters, nor mix "
                      "letters of scripts that look alike (such as Latin and Cyrillic).")


def username_key(username: str) -> str:
    """The form in which two usernames are the same: NFKC (full-width and compatibility
    forms as their plain letters), then case folded.  Unique in the database."""
    return unicodedata.normalize("NFKC", username).casefold()


def username_problem(username: str) -> Any:
    """Why ``username`` may not be a username (invisible characters, spaces, scripts that look
    alike mixed), or None."""
    scripts = set()
    for ch in unicodedata.normalize("NFKC", username):
        category = unicodedata.category(ch)
        if category[0] in "CZ" or ch in _BLANK_LETTERS:
            return USERNAME_MESSAGE
        if category[0] == "L":
            word = unicodedata.name(ch, "").split(" ", 1)[0]
            scripts.add(word if word in _SCRIPT_WORDS else "other")
    if len(scripts & set(_SCRIPT_WORDS)) > 1:
        return USERNAME_MESSAGE
    return None


# --- numbers -----------------------------------------------------------------------------

_ASCII_DIGITS = re.compile("[0-9]+")


def ascii_int(value: str, max_digits: int = 10) -> int | None:
    """``value`` (surrounding whitespace aside) as a whole number written in at most
    ``max_digits`` ASCII digits, else None.  Python's ``int`` also reads ``²`` (and fails)
    or Arabic-Indic digits (and succeeds), and spends time on thousands of digits: every
    number in a query, form or header is read here instead (SPEC §7)."""
    found = value.strip()
    if not 0 < len(found) <= max_digits or not _ASCII_DIGITS.fullmatch(found):
        return None
    return int(found)
