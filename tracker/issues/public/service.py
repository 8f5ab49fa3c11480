"""Public disclosure (政务公开, SPEC §6): what a prefecture publishes of a campaign.

Only campaigns marked ``public``; per county the counts of the summary table (the same SQL
aggregation, ``reports.service.subtree_counts``) and the closed findings with their
category, county, measures and closing date.  Never a person's name or username, a cause, a
comment, an evidence file or the text of a finding not yet closed: the queries below select
none of those columns.

Answers are cached by clients and proxies for five minutes and revalidated by ``ETag``.  The
tag is derived without aggregating: from the campaign's own fields, the latest event id of
the ledger (every change of an issue writes an event), and the names of the campaign's org,
its counties and the categories (renames write no event), and the reader's language.  So a
conditional GET costs four small indexed reads on any worker, and any change makes a new tag.

Org and category names are in the reader's language (``TibetanNamed.local_name_column``: the
Tibetan name to a reader of Tibetan where there is one, else the Chinese), so the names the
tag digests are those the answer shows.  The caller sets the language (the pages' ``?lang=``
under ``force_locale``, the API's ``Accept-Language``) before asking for tag or answer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.issues.models import Campaign, Category, Event, Issue, Status
from tracker.issues.reports.service import subtree_counts, subtree_units
from tracker.owners.models import Org, OrgClosure
from tracker.owners.service import subtree_ids
from tracker.paging import page_meta, page_offset
from tracker.timeutil import reader_language, today

#: Changes whenever the shape of the answers changes, so old tags never match new bodies.
FORMAT = "public-1"
#: Closed findings per page (the API's ``page_size`` may ask for up to 500).
PAGE_SIZE = 50


def public_campaigns() -> list[dict[str, Any]]:
    """The published campaigns, newest first: title, reference, the publishing org."""
    rows = db.session.execute(
        select(Campaign.id, Campaign.local_title_column(), Campaign.reference, Campaign.org_id,
               Org.local_name_column().label("org_name"), Campaign.starts_on)
        .join(Org, Org.id == Campaign.org_id)
        .where(Campaign.public.is_(True))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    )
    return [dict(row._mapping) for row in rows]


def list_tag(rows: list[dict[str, Any]], *variant: Any) -> str:
    """The ETag of the list: a digest of what it shows, in the reader's language."""
    return _digest(FORMAT, "list", reader_language(), rows, *variant)


def get_public_campaign(campaign_id: int) -> Campaign:
    """A published campaign; 404 when it does not exist or is not public."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign.public:
        raise NotFound(_l("No such campaign."))
    return campaign


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _units(campaign: Campaign) -> list[Any]:
    """The campaign's org and its children (the counties), top first, named in the reader's
    language."""
    return list(db.session.execute(
        select(Org.id, Org.local_name_column(), Org.parent_id)
        .where(or_(Org.id == campaign.org_id, Org.parent_id == campaign.org_id))
        .order_by(Org.depth, Org.code, Org.id)
    ))


def _categories() -> list[Any]:
    return list(db.session.execute(
        select(Category.id, Category.local_name_column()).order_by(Category.code, Category.id)
    ))


def campaign_tag(campaign: Campaign, *variant: Any) -> str:
    """The ETag of a campaign's disclosure, without aggregating anything (see above).

    ``variant`` holds what else the answer depends on (page, page size, the page's language);
    the reader's language is always part of it (the names depend on it).
    """
    latest_event = db.session.scalar(select(func.max(Event.id)))
    return _digest(
        FORMAT, reader_language(), campaign.id, campaign.local_title, campaign.reference,
        campaign.org_id,
        campaign.starts_on, latest_event, [tuple(u) for u in _units(campaign)],
        [tuple(c) for c in _categories()], today(), *variant,
    )


def _rates(total: int, closed: int, closed_late: int) -> dict[str, Any]:
    return {
        "total": total,
        "closed": closed,
        "completion_rate": round(closed / total, 4) if total else 0.0,
        # Of the closed findings, the share closed by their due date (null: none closed).
        "on_time_rate": round((closed - closed_late) / closed, 4) if closed else None,
    }


def progress(campaign: Campaign) -> dict[str, Any]:
    """Per county (each child of the campaign's org, its whole subtree; the org's own
    findings as a row of their own when it has any): total, closed, completion and on-time
    rates; and the campaign's totals."""
    units = _units(campaign)
    counts = subtree_counts([campaign.org_id], today(), campaign.id)
    sums: dict[int, list[int]] = {}
    for (org_id, _category_id), row in counts.items():
        acc = sums.setdefault(org_id, [0, 0, 0])
        acc[0] += int(row.total or 0)
        acc[1] += int(row.closed or 0)
        acc[2] += int(row.closed_late or 0)
    counties = []
    for unit in units:
        if unit.id == campaign.org_id and unit.id not in sums:
            continue  # nothing registered on the publishing org itself
        total, closed, late = sums.get(unit.id, [0, 0, 0])
        counties.append({"org_id": unit.id, "name": unit.name, **_rates(total, closed, late)})
    # The publishing org's own findings come after its counties, as 本级 does in print.
    counties.sort(key=lambda c: c["org_id"] == campaign.org_id)
    grand = [sum(v[i] for v in sums.values()) for i in range(3)]
    return {"counties": counties, "totals": _rates(*grand)}


def closed_findings(campaign: Campaign, closed_total: int, page: int,
                    page_size: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One page of the campaign's closed findings, latest closure first: title, category,
    county, measures, closing date.  ``closed_total`` comes from ``progress`` (the same
    rows), so no second count is needed."""
    unit = aliased(Org)
    order = (Issue.closed_on.desc(), Issue.id.desc())
    # The page's ids first, walking the campaign's closures latest first in the index
    # (campaign_id, status, closed_on, id); only those rows are then read with their county.
    # Read whole and then sorted, a campaign's 11,000 closed rows cost the public page 30 ms
    # at 1,000,000 issues (bench/README.md).  Each issue of the subtree has one county.
    page_ids = (
        select(Issue.id)
        .where(Issue.campaign_id == campaign.id, Issue.status == Status.closed,
               Issue.org_id.in_(subtree_ids(campaign.org_id)))
        .order_by(*order).limit(page_size).offset(page_offset(page, page_size))
    )
    rows = db.session.execute(
        select(Issue.title, Category.local_name_column().label("category"),
               unit.local_name_column().label("county"),
               Issue.measures, Issue.closed_on)
        .join(Category, Category.id == Issue.category_id)
        .join(OrgClosure, OrgClosure.descendant_id == Issue.org_id)
        .join(unit, unit.id == OrgClosure.ancestor_id)
        .where(Issue.id.in_(page_ids.scalar_subquery()),
               subtree_units([campaign.org_id], unit))
        .order_by(*order)
    )
    meta = page_meta(closed_total, page, page_size)
    return [dict(row._mapping) for row in rows], meta


def disclosure(campaign: Campaign, page: int = 1,
               page_size: int = PAGE_SIZE) -> tuple[dict[str, Any], dict[str, int]]:
    """The whole answer for one campaign and its pagination metadata."""
    figures = progress(campaign)
    findings, meta = closed_findings(campaign, figures["totals"]["closed"], page, page_size)
    org = db.session.get(Org, campaign.org_id)
    return {
        "id": campaign.id, "title": campaign.local_title, "reference": campaign.reference,
        "org_id": campaign.org_id, "org_name": org.local_name if org else "",
        "starts_on": campaign.starts_on, "as_of": today(),
        **figures, "closed_findings": findings,
    }, meta
