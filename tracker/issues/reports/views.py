"""Pages of the reports: the overdue report, the summary table (汇总表), their downloads, and
the supervisor's dashboard the home page shows.

Their URL rules are in ``blueprint.py``; the figures come from the report services in SQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.models import Campaign, Category
from tracker.issues.reports import export, rectification
from tracker.issues.reports import service as reports
from tracker.owners import service as owners
from tracker.owners.auth import page_user as actor
from tracker.owners.choices import org_filter_choices
from tracker.owners.models import Org, User
from tracker.pages import int_arg, page_number
from tracker.timeutil import (
    DATE_OUT_OF_RANGE,
    DateOutOfRange,
    parse_date,
    reader_language,
    today,
)

PAGE_SIZE = 50


def report_date(name: str = "as_of") -> date:
    """The ``as_of`` (or ``name``) of the query string in any form people type (2018-12-01,
    2018/12/1, 2018年12月1日); today when absent, or (with a message) when it is no date."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return today()
    try:
        return parse_date(raw)
    except DateOutOfRange as exc:
        # The ledger's one domain of dates (SPEC §4), answered as the API answers it.
        raise Invalid(exc.args[0], reason=DATE_OUT_OF_RANGE,
                      errors={name: [exc.args[0]]}) from None
    except ValueError:
        flash(_("Not a valid date: %(value)s", value=raw[:40]), "danger")
        return today()


#: How a query string says yes (``include_empty=1``).
TRUTHY = ("1", "true", "yes", "on")


def _report_args() -> dict[str, Any]:
    """The reports' filters from the query string: as_of, org, category, campaign."""
    return {"as_of": report_date(), "org_id": int_arg("org_id"),
            "category_id": int_arg("category_id"), "campaign_id": int_arg("campaign_id")}


@login_required
def report_overdue() -> Any:
    """The overdue report: most overdue first, with csv and xlsx downloads."""
    user = actor()
    args = _report_args()
    page = page_number()
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        return export.send_report(user, "overdue", fmt, args["as_of"], org_id=args["org_id"],
                                  category_id=args["category_id"],
                                  campaign_id=args["campaign_id"])
    rows, meta = reports.overdue_rows(user, page=page, page_size=PAGE_SIZE, **args)
    categories = db.session.scalars(select(Category).order_by(Category.code)).all()
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc())).all()
    query = {k: v for k, v in request.args.items() if k not in ("page", "format")}
    return render_template("issues/report_overdue.html", rows=rows, meta=meta, args=args,
                           query=query, orgs=org_filter_choices(user, args),
                           categories=categories,
                           campaigns=campaigns)


@login_required
def report_summary() -> Any:
    """The summary table (汇总表) by unit and category, with csv and xlsx downloads."""
    user = actor()
    args = _report_args()
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        return export.send_report(user, "summary", fmt, args["as_of"], org_id=args["org_id"],
                                  campaign_id=args["campaign_id"],
                                  include_empty=request.args.get("include_empty") in TRUTHY)
    reports.require_report_reader(user)
    data = supervisor_dashboard(user, args["as_of"], org_id=args["org_id"],
                                campaign_id=args["campaign_id"], most_overdue=False)
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc())).all()
    query = {k: v for k, v in request.args.items() if k not in ("page", "format")}
    return render_template("issues/report_summary.html", args=args, query=query,
                           orgs=org_filter_choices(user, args), campaigns=campaigns,
                           as_of=args["as_of"], up=_up(user, args["org_id"]), **data)


def _up(user: User, org_id: int | None) -> dict[str, Any] | None:
    """Where the summary of ``org_id`` leads back up to: its parent, when the reader sees it
    (``org_id`` None: the top of the scope, nothing above)."""
    if org_id is None:
        return None
    org = db.session.get(Org, org_id)
    if org is None or org.parent_id is None or not owners.in_scope(user, org.parent_id):
        return {"org_id": None, "name": None, "unit": org.local_name if org else None}
    parent = db.session.get(Org, org.parent_id)
    return {"org_id": org.parent_id, "name": parent.local_name if parent else None,
            "unit": org.local_name}


@login_required
def report_rectification() -> Any:
    """The 整改情况报告 of the chosen unit and campaign as of the day, as a Word download."""
    args = _report_args()
    return rectification.send_rectification(actor(), args["campaign_id"], args["as_of"],
                                            args["org_id"], request.args.get("lang") or None,
                                            reader_language())


def supervisor_dashboard(
    user: User, as_of: date, *, org_id: int | None = None, campaign_id: int | None = None,
    most_overdue: bool = True,
) -> dict[str, Any]:
    """The overdue dashboard: summary table, overdue per unit, most overdue items."""
    summary = reports.summary_rows(user, campaign_id, as_of, org_id, tops=True)
    # The table: one row per child org (a county for the prefecture), one column per category.
    categories: dict[int, str] = {}
    table: dict[int, dict[str, Any]] = {}
    for row in summary:
        entry = table.setdefault(row["org_id"], {"org_id": row["org_id"],
                                                 "org_name": row["org_name"], "cells": {},
                                                 "total": None})
        if row["category_id"] is None:
            entry["total"] = row
        else:
            categories.setdefault(row["category_id"], row["category_name"])
            entry["cells"][row["category_id"]] = row
    counties = list(table.values())
    # The units that have units below them: their names lead into their own summary.
    ids = [c["org_id"] for c in counties]
    branches = set(db.session.scalars(
        select(Org.parent_id).where(Org.parent_id.in_(ids)).distinct())) if ids else set()
    parents = reports.summary_parents(user, org_id)
    # A row of a parent's own findings does not lead further down; a top of several does.
    own = set() if reports.summary_top_level(org_id, parents) else set(parents)
    for c in counties:
        c["drill"] = c["org_id"] in branches and c["org_id"] not in own
    peak = max([(c["total"] or {}).get("overdue", 0) for c in counties] + [0])
    return {
        "categories": categories, "counties": counties, "peak": peak,
        "most_overdue": (reports.overdue(user, as_of, limit=15, org_id=org_id,
                                         campaign_id=campaign_id) if most_overdue else None),
    }
