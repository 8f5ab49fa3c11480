"""What counts as English left on a page: the detector the language tests share."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from tracker.extensions import db

#: Two or more ASCII words of letters in a row: a sentence (or a label) left in English.
_ENGLISH = re.compile(
    r"(?<![\w@/.-])[A-Za-z]{2,}(?:[ \t]+[A-Za-z]{2,})+(?![\w@/-]|\.\w)")
#: Words that are names of things in every language (file formats, products).
_NAMES = {"PDF", "PNG", "JPEG", "GIF", "WebP", "Office", "Excel", "CSV", "UTF", "GB18030",
          "SHA", "KB", "MB", "JSON", "English", "xlsx", "csv"}


def visible_text(page: str) -> str:
    """What a reader sees of a page: its text and the attributes shown to people."""
    page = re.sub(r"(?is)<(script|style|code|kbd|pre)\b.*?</\1>", " ", page)
    shown = re.findall(r'(?i)\b(?:title|placeholder|aria-label|alt)="([^"]*)"', page)
    text = re.sub(r"(?s)<[^>]+>", " ", page)
    return html_lib.unescape(text + " " + " ".join(shown))


def english_sentences(text: str, data: set[str] = frozenset()) -> list[str]:
    """The runs of two or more English words in ``text``, once the data the users typed
    (usernames, names, codes, file names, emails) is taken out."""
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    found = []
    for match in _ENGLISH.finditer(text):
        words = match.group(0).split()
        if not all(w in _NAMES for w in words):
            found.append(match.group(0))
    return found


def data_of(world: Any) -> set[str]:
    """What the users typed (usernames, names, codes, file names): data, not sentences."""
    from tracker.issues.models import Category, Evidence
    from tracker.owners.models import Org, User

    values: set[str] = set()
    for user in db.session.scalars(db.select(User)):
        values.update({user.username, user.display_name, user.email or ""})
    for org in db.session.scalars(db.select(Org)):
        values.add(org.code)
    for cat in db.session.scalars(db.select(Category)):
        values.add(cat.code)
    for ev in db.session.scalars(db.select(Evidence)):
        values.add(ev.filename)
    return values
