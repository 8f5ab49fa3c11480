"""Pages of the notify domain."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notify", __name__)
