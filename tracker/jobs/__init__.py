"""Long work as a job: exports and imports claimed exactly once by a worker, their progress,
their files kept a day.  Below notify, above the ledger: jobs call the ledger's export and
import; the ledger knows no jobs."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the jobs' API, pages and commands (imported here: see issues.init_app)."""
    from tracker.extensions import api
    from tracker.issues.imports import api as imports_api
    from tracker.jobs import api as jobs_api
    from tracker.jobs import blueprint, cli

    api.register_blueprint(jobs_api.blp)
    app.register_blueprint(blueprint.bp)
    # The import's API and page queue big files (and, asked so, any) as jobs.
    if not imports_api.import_jobs:
        imports_api.import_jobs.append(jobs_api.ImportJobs())
    for command in cli.commands:
        app.cli.add_command(command)
