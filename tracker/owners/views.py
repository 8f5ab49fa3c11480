"""Pages of the owners domain."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("owners", __name__)
