"""An admin's pages over a country of several prefectures (issue 26 item 2): the summary is a
table a person reads, one row per top with its whole subtree and a way down into each; the
queues' badges count exactly up to a bound and say "N+" past it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.support.pages import login
from tracker.timeutil import today


def _rows(html: str) -> dict[str, str]:
    """The summary table's rows: the unit's name -> the row's HTML."""
    table = re.search(r'data-testid="summary-table".*?</table>', html, re.S)
    assert table, html[:2000]
    rows = {}
    for row in re.findall(r"<tr>.*?</tr>", table.group(0), re.S):
        name = re.search(r'<th scope="row">(?:<a [^>]*>)?([^<]+)', row)
        if name:
            rows[name.group(1).strip()] = row
    return rows


def _total(row: str) -> int:
    found = re.search(r'data-label="(?:合计|Total)">(\d+)<', row)
    assert found, row
    return int(found.group(1))


def _country(make: Any) -> dict[str, Any]:
    """Two prefectures, each with two counties and findings; the second one's counties have
    more, and a finding is registered on the second prefecture itself."""
    admin = make.user("admin", None, username="admin")
    category = make.category()
    made: dict[str, Any] = {"admin": admin, "prefectures": []}
    for p, (name, per_county) in enumerate((("果洛州", 2), ("玉树州", 3))):
        pref = make.org(name, "prefecture")
        campaign = make.campaign(pref, starts_on=today() - timedelta(days=60))
        officer = make.user("officer", pref)
        counties = [make.org(f"{name}第{c}县", "county", pref) for c in range(2)]
        for county in counties:
            for i in range(per_county):
                due = today() - timedelta(days=1 + i) if i else today() + timedelta(days=30)
                make.issue(county, officer, campaign, category, starts_on=campaign.starts_on,
                           due_on=due)
        if p == 1:
            make.issue(pref, officer, campaign, category, starts_on=campaign.starts_on,
                       due_on=today() + timedelta(days=30))
        made["prefectures"].append((pref, counties, per_county * 2 + p))
    return made


def test_an_admin_of_several_prefectures_reads_one_row_for_each(make: Any,
                                                                client: FlaskClient) -> None:
    country = _country(make)
    login(client, "admin")
    for path in ("/reports/summary", "/"):
        html = client.get(path).get_data(as_text=True)
        rows = _rows(html)
        names = {pref.name for pref, _, _ in country["prefectures"]}
        assert set(rows) == names, (path, list(rows))  # the tops, not their twenty counties
        for pref, counties, total in country["prefectures"]:
            # Each top counts its whole subtree: its counties and its own findings.
            assert _total(rows[pref.name]) == total, path
            assert f"/reports/summary?org_id={pref.id}&amp;" in rows[pref.name]
            assert not any(c.name in rows for c in counties)
    # Down into one prefecture: its counties, and its own findings as a row of their own.
    pref, counties, _total_found = country["prefectures"][1]
    rows = _rows(client.get(f"/reports/summary?org_id={pref.id}").get_data(as_text=True))
    assert {c.name for c in counties} <= set(rows)
    assert [_total(rows[c.name]) for c in counties] == [3, 3]


def test_the_tops_read_from_the_ledger_equal_the_tops_read_from_the_kept_counts(
        make: Any, client: FlaskClient) -> None:
    """Before the scheduler has rolled the kept counts to today (or for any other day) the
    summary is aggregated from the ledger instead: the tops' rows must be the same."""
    from sqlalchemy import update

    from tracker.extensions import db
    from tracker.issues.reports.counts import IssueCountsDay

    _country(make)
    login(client, "admin")
    kept = _rows(client.get("/reports/summary").get_data(as_text=True))
    db.session.execute(update(IssueCountsDay).values(day=today() - timedelta(days=1)))
    db.session.commit()
    aggregated = _rows(client.get("/reports/summary").get_data(as_text=True))
    assert {k: _total(v) for k, v in kept.items()} == {k: _total(v) for k, v in aggregated.items()}
    assert len(kept) == 2


def test_the_api_summary_of_an_admin_still_lists_the_children_of_the_tops(
        make: Any, api: Any) -> None:
    """The API's contract is unchanged: an admin's summary without org_id has the rows of
    the roots' children (SPEC §3), only the pages read the tops."""
    country = _country(make)
    body = api.get("/api/v1/reports/summary", user="admin").get_json()
    orgs = {row["org_id"] for row in body if row["category_id"] is None}
    counties = {c.id for _, cs, _ in country["prefectures"] for c in cs}
    assert counties <= orgs


def test_a_queue_badge_counts_exactly_up_to_its_bound(world: Any, make: Any,
                                                      client: FlaskClient,
                                                      monkeypatch: Any) -> None:
    from tracker.issues import views

    monkeypatch.setattr(views, "QUEUE_LIMIT", 2)
    monkeypatch.setattr(views, "QUEUE_COUNT_BOUND", 3)
    login(client, "zhou")

    def badge() -> str:
        html = client.get("/").get_data(as_text=True)
        found = re.search(r'data-testid="verify-count">([^<]*)<', html)
        assert found, html[:3000]
        return found.group(1)

    assert badge() == "0"
    for n in range(1, 6):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   status="submitted", due_on=date(2019, 1, 7))
        assert badge() == (str(n) if n <= 3 else "3+"), n
