"""Pages of the ranking (考核排名) and the trend: tables, and charts drawn on the server as SVG.

Thin: the figures come from ``ranking.ranking_rows`` and ``trend.trend_series``, the files from
``bulletin``, the charts' geometry from ``tracker.charts``.
"""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from tracker import charts
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.models import Campaign
from tracker.issues.reports import service as reports
from tracker.issues.reports.views import report_date
from tracker.owners.auth import page_user
from tracker.owners.choices import org_choices
from tracker.pages import int_arg
from tracker.supervision import bulletin, trend
from tracker.text import ascii_int
from tracker.timeutil import reader_language

#: The three lines of a county's trend: key, label (a line style each, besides its colour).
TREND_LINES = (("total", _l("Findings")), ("closed", _l("Closed")),
               ("overdue", _l("Overdue")))
STEP_LABELS = {"month": _l("Monthly"), "week": _l("Weekly")}


def _campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc())))


def _query() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k not in ("page", "format", "lang")}


@login_required
def ranking_page() -> Any:
    """The ranking of the units, best first, with a bar chart of their scores; ``format=xlsx``
    downloads the table, ``format=docx`` the 通报."""
    user = page_user()
    args: dict[str, Any] = {"as_of": report_date(), "org_id": int_arg("org_id"),
            "campaign_id": int_arg("campaign_id")}
    fmt = request.args.get("format")
    if fmt in bulletin.FORMATS:
        return bulletin.send_ranking(user, fmt, args["campaign_id"], args["as_of"],
                                     args["org_id"], request.args.get("lang") or None)
    data = bulletin.load(user, args["campaign_id"], args["as_of"], args["org_id"])
    chart = charts.bar_chart([(r["org_name"], r["score"], f"{r['score']:.1f}")
                              for r in data.ranked], top=100,
                             width=520, label_width=150)
    downloads = [({"format": "xlsx"}, _l("Download xlsx"), "download-xlsx"),
                 ({"format": "docx"}, _l("Bulletin (Word)"), "download-docx")]
    if reader_language() != "bo":
        downloads.append(({"format": "docx", "lang": "bo"}, _l("Bulletin in Tibetan (Word)"),
                          "download-docx-bo"))
    return render_template("supervision/ranking.html", args=args, query=_query(),
                           orgs=org_choices(user), campaigns=_campaigns(),
                           as_of=args["as_of"], data=data, chart=chart, downloads=downloads,
                           title=bulletin.title(data), formula=bulletin.formula_note(),
                           percent=bulletin.percent)


@login_required
def trend_page() -> Any:
    """A line chart per county of its findings, closed and overdue at each week's or month's
    end, and the same figures in a table."""
    user = page_user()
    reports.require_report_reader(user)
    step = request.args.get("step") or "month"
    raw_from = (request.args.get("from") or "").strip()
    args: dict[str, Any] = {
        "org_id": int_arg("org_id"), "campaign_id": int_arg("campaign_id"), "step": step,
        "to": report_date("to"), "from": report_date("from") if raw_from else None,
        "points": ascii_int(request.args.get("points", ""), 4)}
    status = 200
    series: list[trend.Series] = []
    try:
        series = trend.trend_series(user, step, args["to"], args["from"], args["points"],
                                    args["campaign_id"], args["org_id"])
    except Invalid as exc:
        flash(str(exc.message), "danger")
        status = 422
    drawn = [(s, charts.line_chart(
        [p["date"].isoformat() for p in s.points],
        [(key, str(name), [p[key] for p in s.points]) for key, name in TREND_LINES]))
        for s in series]
    return render_template("supervision/trend.html", args=args, orgs=org_choices(user),
                           campaigns=_campaigns(), drawn=drawn, lines=TREND_LINES,
                           step_labels=STEP_LABELS), status
