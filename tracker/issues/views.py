"""Pages of the issues domain."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("issues", __name__)
