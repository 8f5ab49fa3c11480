"""Rectification ledger (整改台账): the application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from tracker.config import Config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(Config(app.instance_path))
    if config:
        app.config.update(config)
    # JSON answers carry Chinese as UTF-8, not \u escapes (Flask 3 ignores JSON_AS_ASCII).
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from tracker import extensions as ext
    from tracker import models  # noqa: F401 - the whole schema, for SQLAlchemy and Alembic

    ext.db.init_app(app)
    ext.migrate.init_app(
        app, ext.db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
        render_as_batch=True,
    )
    ext.login_manager.init_app(app)
    ext.csrf.init_app(app)
    ext.api.init_app(app)
    ext.api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )

    from tracker import database

    database.init_app(app)

    from tracker.errors import register_error_handlers

    register_error_handlers(app)

    from tracker import web

    web.init_app(app)

    from tracker.owners import api as owners_api
    from tracker.owners import auth

    auth.init_app(app)
    owners_api.register(ext.api)

    from tracker.issues import api as issues_api
    from tracker.issues import evidence_api, extensions_api, reports_api

    issues_api.register(ext.api)
    evidence_api.register(ext.api)
    reports_api.register(ext.api)
    extensions_api.register(ext.api)

    from tracker.notify import api as notify_api

    notify_api.register(ext.api)

    from tracker import cli

    cli.init_app(app)
    return app
