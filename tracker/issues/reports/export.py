"""Exporting a filtered ledger as a 整改台账 spreadsheet (csv or xlsx), streamed.

Rows are read in batches (``yield_per``) with the category and owner joined in the same
statement and one query for the org paths of each batch's new orgs, so an export costs a
handful of statements and bounded memory whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from flask import Response, stream_with_context
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from tracker import spreadsheets
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.http import attachment
from tracker.issues.models import Category, Issue, Status
from tracker.owners.models import Org, OrgClosure, OrgKind, User
from tracker.timeutil import format_window, today

COLUMNS = ["序号", "县", "单位/中心", "问题类别", "问题", "原因分析", "整改措施", "责任人",
           "整改时限", "状态", "逾期天数", "佐证材料数", "销号日期"]
#: Column widths of the xlsx sheet, in characters.
WIDTHS = [6, 12, 28, 30, 40, 40, 40, 10, 28, 8, 8, 10, 12]
STATUS_LABELS = {
    Status.open.value: "待整改",
    Status.in_progress.value: "整改中",
    Status.submitted.value: "待验收",
    Status.closed.value: "已销号",
}
#: Rows fetched (and org paths looked up) at a time.
BATCH = 1000


def _org_parts(org_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(county, unit below the county) for each org, in one query."""
    rows = db.session.execute(
        select(OrgClosure.descendant_id, Org.name, Org.kind)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(OrgClosure.descendant_id.in_(org_ids))
        .order_by(OrgClosure.descendant_id, OrgClosure.distance.desc())
    ).all()
    lines: dict[int, list[tuple[str, str]]] = {}
    for org_id, name, kind in rows:
        lines.setdefault(org_id, []).append((name, kind))
    result: dict[int, tuple[str, str]] = {}
    for org_id, line in lines.items():
        kinds = [kind for _name, kind in line]
        if OrgKind.county.value in kinds:
            at = kinds.index(OrgKind.county.value)
            county, below = line[at][0], line[at + 1:]
        else:
            # Above any county (the prefecture and its own centre): no county to name.
            county, below = "", line[1:]
        unit = " / ".join(name for name, _kind in below) or line[-1][0]
        result[org_id] = (county, unit)
    return result


def county_names(org_ids: set[int]) -> dict[int, str]:
    """The county of each org (empty above any county), in one query."""
    if not org_ids:
        return {}
    return {org_id: county for org_id, (county, _unit) in _org_parts(org_ids).items()}


def ledger_rows(stmt: Select[Any], *, as_of: date | None = None,
                batch_size: int = BATCH) -> Iterator[list[Any]]:
    """The 整改台账 rows of the issues ``stmt`` selects, in its order (no header)."""
    as_of = as_of or today()
    category = aliased(Category)
    owner = aliased(User)
    query = (
        stmt.add_columns(category.name, owner.display_name)
        .join(category, category.id == Issue.category_id)
        .join(owner, owner.id == Issue.owner_id)
        .execution_options(yield_per=batch_size)
    )
    paths: dict[int, tuple[str, str]] = {}
    number = 0
    result = db.session.execute(query)
    for partition in result.partitions():
        new_orgs = {row[0].org_id for row in partition} - paths.keys()
        if new_orgs:
            paths.update(_org_parts(new_orgs))
        for issue, category_name, owner_name in partition:
            number += 1
            county, unit = paths.get(issue.org_id, ("", ""))
            yield [
                number,
                county,
                unit,
                category_name,
                issue.title,
                issue.cause,
                issue.measures,
                owner_name,
                format_window(issue.starts_on, issue.due_on),
                STATUS_LABELS.get(issue.status, issue.status),
                issue.days_overdue_on(as_of),
                issue.evidence_count,
                issue.closed_on,
            ]


def _filename(ext: str) -> tuple[str, str]:
    stamp = today().strftime("%Y%m%d")
    return f"ledger-{stamp}.{ext}", f"整改台账-{stamp}.{ext}"


def _csv_rows(stmt: Select[Any]) -> Iterator[list[Any]]:
    yield COLUMNS
    yield from ledger_rows(stmt)


def _xlsx_file(stmt: Select[Any]) -> IO[bytes]:
    """The ledger as a workbook in a spooled file (write-only: rows go to disk)."""
    return spreadsheets.xlsx_file("整改台账", ledger_rows(stmt), header=COLUMNS, widths=WIDTHS)


def export_ledger(stmt: Select[Any], fmt: str) -> Response:
    """The issues ``stmt`` selects (filtered, ordered) as a 整改台账 download, csv or xlsx."""
    if fmt == "csv":
        body: Any = stream_with_context(spreadsheets.csv_chunks(_csv_rows(stmt)))
        mimetype = spreadsheets.CSV_MIMETYPE
    elif fmt == "xlsx":
        body, mimetype = _xlsx_file(stmt), spreadsheets.XLSX_MIMETYPE
    else:
        raise Invalid("Export format must be csv or xlsx.",
                      errors={"format": ["Must be csv or xlsx."]})
    ascii_name, name = _filename(fmt)
    return attachment(body, name, mimetype, fallback=ascii_name, cache="private, no-cache")
