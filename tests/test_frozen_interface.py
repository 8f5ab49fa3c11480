"""What users and clients meet does not change by accident: routes, the OpenAPI document, commands.

``tests/frozen/interface.json`` holds the url map (rule, methods, endpoint), the OpenAPI
document and the command names.  A change that adds or changes any of them on purpose
regenerates the file (``python -m tests.test_frozen_interface``) and the diff shows it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from flask import Flask

FROZEN = os.path.join(os.path.dirname(__file__), "frozen", "interface.json")


def interface(app: Flask) -> dict[str, Any]:
    """The url map, the OpenAPI document and the CLI commands of ``app``."""
    rules = sorted(
        [rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}), rule.endpoint]
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ("static", "bootstrap.static")
    )
    from tracker.extensions import api

    with app.test_request_context():
        spec = api.spec.to_dict()
    commands = sorted(app.cli.list_commands(app.app_context()))  # type: ignore[arg-type]
    return {"rules": rules, "commands": commands, "openapi": spec}


def test_routes_openapi_and_commands_are_as_frozen(app: Flask) -> None:
    with open(FROZEN, encoding="utf-8") as fh:
        frozen = json.load(fh)
    now = json.loads(json.dumps(interface(app)))
    assert now["rules"] == frozen["rules"]
    assert now["commands"] == frozen["commands"]
    assert now["openapi"] == frozen["openapi"]


if __name__ == "__main__":  # pragma: no cover - regenerates the snapshot on purpose
    from tracker import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with open(FROZEN, "w", encoding="utf-8") as fh:
        json.dump(interface(app), fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write("\n")
    sys.exit(0)
