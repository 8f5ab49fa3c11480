"""Rectification ledger (整改台账): the application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from tracker import database, errors, pages, serving, webapi
from tracker import extensions as ext
from tracker.config import Config


def _resource(name: str) -> str:
    """A folder that travels with the package: inside it once installed (the wheel maps
    ``templates/`` and ``migrations/`` in), at the repository's top in a checkout."""
    inside = os.path.join(os.path.dirname(__file__), name)
    if os.path.isdir(inside):
        return inside
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints."""
    from tracker import issues, jobs, notify, owners, supervision

    app = Flask(__name__, instance_relative_config=True, template_folder=_resource("templates"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(Config(app.instance_path))
    if config:
        app.config.update(config)
    # JSON answers carry Chinese as UTF-8, not \u escapes (Flask 3 ignores JSON_AS_ASCII).
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=_resource("migrations"), render_as_batch=True)
    ext.login_manager.init_app(app)
    ext.csrf.init_app(app)
    # Documents the error body with its ``reason`` (flask-smorest's own Error schema lacks it).
    ext.api.ERROR_SCHEMA = errors.ErrorSchema
    ext.api.init_app(app)
    ext.api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    database.init_app(app)
    errors.register_error_handlers(app)
    serving.init_app(app)
    webapi.init_app(app)
    pages.init_app(app)
    owners.init_app(app)
    issues.init_app(app)
    supervision.init_app(app)
    notify.init_app(app)
    jobs.init_app(app)
    return app


def main() -> None:
    """The ``tracker`` console script: ``flask --app tracker`` under a shorter name."""
    from flask.cli import FlaskGroup

    FlaskGroup(create_app=create_app)(prog_name="tracker")
