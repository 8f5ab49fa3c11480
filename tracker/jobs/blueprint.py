"""URL rules of the jobs' pages: a job's progress and result, its file, the export form."""

from __future__ import annotations

from flask import Blueprint

from tracker.jobs import views
from tracker.webapi import MAX_ID

bp = Blueprint("jobs", __name__)
JOB = f"/jobs/<int(min=1, max={MAX_ID}):job_id>"

bp.add_url_rule("/jobs/exports", view_func=views.start_export, methods=["POST"])
bp.add_url_rule(JOB, view_func=views.job_page, methods=["GET"])
bp.add_url_rule(JOB + ".json", view_func=views.job_json, methods=["GET"])
bp.add_url_rule(JOB + "/file", view_func=views.job_file, methods=["GET"])
