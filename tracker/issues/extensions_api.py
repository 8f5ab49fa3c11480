"""REST API: extensions endpoints under /api/v1."""

from __future__ import annotations

from flask_smorest import Api


def register(api: Api) -> None:
    """Register this module's API blueprints."""
