"""Pages for importing findings from a spreadsheet."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("imports", __name__)
