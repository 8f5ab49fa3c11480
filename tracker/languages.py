"""The product's languages and how a caller's is read from the request, with nothing else
imported: the error handlers (which must answer without the database) and the pages share it."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import force_locale

#: Languages with a catalogue; the first is the default.
LANGUAGES = ("zh_Hans", "bo", "en")
LANGUAGE_NAMES = {"zh_Hans": "中文", "bo": "བོད་ཡིག", "en": "English"}
#: The ``lang`` attribute of each language (BCP 47).
LANGUAGE_TAGS = {"zh_Hans": "zh-Hans", "bo": "bo", "en": "en"}

#: The primary subtag of an ``Accept-Language`` entry -> our language.
_PRIMARY_TAGS = {"zh": "zh_Hans", "bo": "bo", "en": "en"}


def accepted_language() -> str | None:
    """The caller's most wanted language among ours (``Accept-Language``), if any."""
    for tag, _quality in request.accept_languages:
        lang = _PRIMARY_TAGS.get(tag.replace("_", "-").split("-")[0].lower())
        if lang is not None:
            return lang
    return None


def in_every_language(label: Any) -> set[str]:
    """A lazy label rendered in each of the product's languages."""
    found = set()
    for lang in LANGUAGES:
        with force_locale(lang):
            found.add(str(label))
    return found
