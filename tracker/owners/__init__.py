"""Who people are: the organisation tree, users, roles, scope, login and tokens."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's login, pages, API, commands and labels.

    The modules are imported here, not at the top, so that importing a model of the domain
    (Alembic, the benchmarks) does not build its pages and API.
    """
    from tracker.errors import UniqueRefusal, register_unique
    from tracker.extensions import api
    from tracker.owners import api as owners_api
    from tracker.owners import auth, blueprint, cli
    from tracker.owners.labels import ORG_KIND_LABELS, ROLE_LABELS

    auth.init_app(app)
    register_unique("uq_orgs_code", "orgs.code", UniqueRefusal(
        "An org with this code exists.", field="code", field_message="Already used."))
    register_unique("uq_users_username", "users.username", UniqueRefusal(
        "This username is taken.", field="username", field_message="Already used."))
    register_unique("uq_users_username_key", "users.username_key", UniqueRefusal(
        "This username is taken.", field="username", field_message="Already used."))
    app.register_blueprint(blueprint.lang_bp)
    app.register_blueprint(blueprint.bp)
    for blp in owners_api.BLUEPRINTS:
        api.register_blueprint(blp)
    for command in cli.commands:
        app.cli.add_command(command)
    app.jinja_env.globals.update(ROLE_LABELS=ROLE_LABELS, ORG_KIND_LABELS=ORG_KIND_LABELS)
