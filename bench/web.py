"""Read benchmarks through the real app: issue list page, overdue report, summary.

Each request goes through the real Flask app (test client, bearer token, the real endpoint)
and is compared with a floor measured in the same process and run: a bare endpoint,
registered only inside the bench, that returns the very same JSON from memory (what the
framework costs at least); the summary with the raw SQL aggregate alone.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import Date, bindparam, select, text

from bench.common import Result, Settings, interleaved_medians, say
from bench.generate import Ledger, bench_app
from tracker.webapi import json_response

#: The summary's figures as one GROUP BY: every child of the org (and the org itself, for
#: what is registered on it), per category; the same aggregate the report runs.
RAW_SUMMARY_SQL = text("""
SELECT c.ancestor_id AS org_id, i.category_id AS category_id,
       count(*) AS total,
       sum(CASE WHEN i.status = 'closed' THEN 1 ELSE 0 END) AS closed,
       sum(CASE WHEN i.status = 'closed' AND i.closed_on > i.due_on THEN 1 ELSE 0 END)
         AS closed_late,
       sum(CASE WHEN i.extension_count > 0 THEN 1 ELSE 0 END) AS extended,
       sum(CASE WHEN i.status <> 'closed' AND i.due_on < :as_of THEN 1 ELSE 0 END) AS overdue
FROM issues i
JOIN org_closure c ON c.descendant_id = i.org_id
JOIN orgs o ON o.id = c.ancestor_id
WHERE o.parent_id = :org_id OR (c.ancestor_id = :org_id AND c.distance = 0)
GROUP BY c.ancestor_id, i.category_id
""").bindparams(bindparam("as_of", type_=Date()))

FLOOR_PATH = "/bench-floor/<name>"
#: The answers the product encodes with orjson (tracker.webapi.json_response).
ORJSON_ANSWERS = {"issue list page (county)", "overdue report page 1"}


def add_floor(app: Flask, payloads: dict[str, tuple[Any, dict[str, str]]],
              captured: dict[str, list[tuple[str, Any]]] | None = None) -> None:
    """The framework's floor: the same JSON and headers, from memory, no database, no auth;
    and the second floor, the same with the request's own SQL run raw (``captured``)."""
    captured = captured if captured is not None else {}

    def floor(name: str) -> Response:
        # The same bytes as the real answer: encoded as the hot paths encode theirs.
        body, headers = payloads[name]
        resp = json_response(body) if name in ORJSON_ANSWERS else jsonify(body)
        resp.headers.update(headers)
        return resp

    def floor_with_token(name: str) -> Response:
        from tracker.owners.auth import api_user

        api_user()
        return floor(name)

    def floor_with_sql(name: str) -> Response:
        # The second floor: the very statements the real request sent (captured from it),
        # run raw on the driver's connection (psycopg or sqlite3, no SQLAlchemy, no ORM, no
        # transaction of ours), then the same answer from memory with the same encoder.
        from tracker.extensions import db

        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in captured[name]:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
            raw.rollback()
        finally:
            raw.close()
        return floor(name)

    app.add_url_rule(FLOOR_PATH.replace("floor", "floor-sql"), "bench_floor_sql",
                     floor_with_sql)

    app.add_url_rule(FLOOR_PATH, "bench_floor", floor)
    # Not a baseline: it shows how much of the gap the bearer token's lookup alone is.
    app.add_url_rule(FLOOR_PATH.replace("floor", "floor-token"), "bench_floor_token",
                     floor_with_token)


def token_for(app: Flask, username: str) -> str:
    """A bearer token for a generated user, made by the product's own service."""
    from tracker.extensions import db
    from tracker.owners.models import User
    from tracker.owners.service import issue_token

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        token, _expires = issue_token(user)
        db.session.commit()
        db.session.remove()
    return token


def _captured(app: Flask, request: Any) -> list[tuple[str, Any]]:
    """The SQL statements (with their parameters, as the driver got them) one request sends,
    but the transaction's own (BEGIN, ROLLBACK): what the second floor runs raw."""
    import re

    from sqlalchemy import event

    from tracker.extensions import db

    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    request()  # warm
    event.listen(engine, "before_cursor_execute", listen)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def _get(client: Any, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers)


#: The past days the as-of reports are taken on, in days before the ledger's today: the
#: day before (nearly every span begun: the widest range) and half a year back.
AS_OF_DAYS_BACK = (1, 180)


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """The list, overdue, summary, as-of and public benchmarks on one database."""
    wanted = [n for n in ("list", "overdue", "summary", "asof", "public")
              if n in settings.only]
    if not wanted:
        return []
    app = bench_app(url)
    payloads: dict[str, tuple[Any, dict[str, str]]] = {}
    captured: dict[str, list[tuple[str, Any]]] = {}
    add_floor(app, payloads, captured)
    client = app.test_client()
    results: list[Result] = []
    as_of = date.fromisoformat(ledger.today)
    county_token = token_for(app, ledger.county_supervisor)
    pref_token = token_for(app, ledger.prefecture_supervisor)

    def compare(name: str, path: str, token: str, target: float, expect_rows: bool) -> None:
        resp = _get(client, path, token)
        if resp.status_code != 200:
            say(f"  skip {name}: {path} answered {resp.status_code} "
                f"{resp.get_data(as_text=True)[:200]}")
            return
        body = resp.get_json()
        if expect_rows and not body:
            say(f"  skip {name}: {path} returned no rows")
            return
        headers = {k: v for k, v in resp.headers.items() if k in ("X-Pagination", "ETag")}
        payloads[name] = (body, headers)
        floor_path = FLOOR_PATH.replace("<name>", name)
        assert _get(client, floor_path).get_data() == resp.get_data(), "floor differs"
        token_path = floor_path.replace("floor", "floor-token")
        sql_path = floor_path.replace("floor", "floor-sql")
        captured[name] = _captured(app, lambda: _get(client, path, token))
        times = interleaved_medians({
            "real": lambda: _get(client, path, token),
            "floor": lambda: _get(client, floor_path),
            "token": lambda: _get(client, token_path, token),
            "sql": lambda: _get(client, sql_path),
        }, settings.repeat)
        rows = len(body) if isinstance(body, list) else 0
        total = json.loads(headers.get("X-Pagination", "{}")).get("total")
        note = f"{rows} rows of {total}" if total is not None else f"{rows} rows"
        statements = len(captured[name])
        results.append(Result(
            name, kind, ledger.issues, times["real"] * 1000, times["floor"] * 1000, "ms",
            target, note=f"{note}; floor + token lookup {times['token'] * 1000:.2f} ms",
            extra={"floor_with_token_ms": times["token"] * 1000},
        ))
        say(results[-1].line())
        results.append(Result(
            f"{name}, against its SQL run raw", kind, ledger.issues, times["real"] * 1000,
            times["sql"] * 1000, "ms", target,
            note=f"floor: the request's {statements} statements by the bare driver, "
                 "then the same encoder",
        ))
        say(results[-1].line())

    if "list" in wanted:
        compare("issue list page (county)",
                f"/api/v1/issues?org_id={ledger.county_id}&sort=due_on&page_size=50",
                county_token, 2.5, True)
    if "overdue" in wanted:
        compare("overdue report page 1",
                f"/api/v1/reports/overdue?org_id={ledger.prefecture_id}"
                f"&as_of={as_of.isoformat()}",
                pref_token, 3.0, True)
    if "summary" in wanted:
        path = (f"/api/v1/reports/summary?org_id={ledger.prefecture_id}"
                f"&as_of={as_of.isoformat()}")
        resp = _get(client, path, pref_token)
        if resp.status_code != 200:
            say(f"  skip summary: {path} answered {resp.status_code}")
        else:
            from tracker.extensions import db

            def raw() -> list[Any]:
                with app.app_context():
                    rows = db.session.execute(
                        RAW_SUMMARY_SQL, {"org_id": ledger.prefecture_id, "as_of": as_of}
                    ).all()
                    db.session.remove()
                    return rows

            times = interleaved_medians({
                "real": lambda: _get(client, path, pref_token),
                "raw": raw,
            }, max(5, settings.repeat // 3))
            results.append(Result(
                "summary (prefecture)", kind, ledger.issues, times["real"] * 1000,
                times["raw"] * 1000, "ms", 1.5,
                note=f"{len(resp.get_json())} rows; baseline: the raw GROUP BY",
            ))
            say(results[-1].line())
    if "list" in wanted:
        results += _keyset(settings, kind, app, client, ledger)
    if "summary" in wanted:
        results += _country(settings, kind, app, ledger, as_of)
    if "public" in wanted:
        results += _public(settings, kind, app, client, ledger, pref_token)
    if "asof" in wanted:
        results += _as_of(settings, kind, client, ledger, pref_token, as_of)
    with app.app_context():
        from tracker.extensions import db

        db.engine.dispose()
    return results


def _public(settings: Settings, kind: str, app: Flask, client: Any, ledger: Ledger,
            pref_token: str) -> list[Result]:
    """政务公开: a published campaign's JSON (no login) against the summary table of the same
    prefecture and campaign, which runs the same aggregation; and the conditional GET (304)
    against the full answer."""
    from tracker.extensions import db
    from tracker.issues.models import Campaign

    with app.app_context():
        campaign_id = db.session.scalar(
            select(Campaign.id).where(Campaign.org_id == ledger.prefecture_id)
            .order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1))
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.public = True  # the bench's own ledger: publishing it changes nothing else
        db.session.commit()
        db.session.remove()
    path = f"/api/v1/public/campaigns/{campaign_id}"
    summary = f"/api/v1/reports/summary?org_id={ledger.prefecture_id}&campaign_id={campaign_id}"
    first = _get(client, path)
    if first.status_code != 200 or _get(client, summary, pref_token).status_code != 200:
        say(f"  skip public: {path} answered {first.status_code}")
        return []
    body = first.get_json()
    tag = first.headers["ETag"]
    times = interleaved_medians({
        "public": lambda: _get(client, path),
        "summary": lambda: _get(client, summary, pref_token),
        "revalidate": lambda: client.get(path, headers={"If-None-Match": tag}),
    }, max(5, settings.repeat // 3))
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304
    note = (f"{len(body['counties'])} counties, {body['totals']['total']} findings, "
            f"{len(body['closed_findings'])} closed on page 1")
    results = [
        Result("public campaign JSON", kind, ledger.issues, times["public"] * 1000,
               times["summary"] * 1000, "ms", 1.5,
               note=f"{note}; baseline: the summary of the same prefecture and campaign"),
        Result("public JSON, 304 revalidation", kind, ledger.issues,
               times["revalidate"] * 1000, times["public"] * 1000, "ms", 0.25,
               note="If-None-Match answered from markers; baseline: the full answer"),
    ]
    for result in results:
        say(result.line())
    return results


def _as_of(settings: Settings, kind: str, client: Any, ledger: Ledger, token: str,
           as_of: date) -> list[Result]:
    """The summary and the overdue report as of a past day (read from the status spans)
    against the same report today (read from the issues), both through the real app."""
    from datetime import timedelta

    results: list[Result] = []
    reports = {
        "summary": f"/api/v1/reports/summary?org_id={ledger.prefecture_id}",
        "overdue": f"/api/v1/reports/overdue?org_id={ledger.prefecture_id}",
    }
    for name, base in reports.items():
        today_path = f"{base}&as_of={as_of.isoformat()}"
        for back in AS_OF_DAYS_BACK:
            day = as_of - timedelta(days=back)
            path = f"{base}&as_of={day.isoformat()}"
            then, now = _get(client, path, token), _get(client, today_path, token)
            if then.status_code != 200 or now.status_code != 200 or not then.get_json():
                say(f"  skip {name} as of {day}: {then.status_code} {now.status_code}")
                continue
            times = interleaved_medians({
                "then": lambda p=path: _get(client, p, token),
                "now": lambda q=today_path: _get(client, q, token),
            }, max(5, settings.repeat // 3))
            rows = then.get_json()
            note = (f"as of {day} ({back} d back) vs today; "
                    + (f"{len(rows)} rows" if name == "summary" else
                       f"{json.loads(then.headers['X-Pagination'])['total']} overdue then, "
                       f"{json.loads(now.headers['X-Pagination'])['total']} now"))
            results.append(Result(
                f"{name} as of -{back} d", kind, ledger.issues, times["then"] * 1000,
                times["now"] * 1000, "ms", 3.0, note=note,
            ))
            say(results[-1].line())
    return results


#: The whole-country pages must answer within this many milliseconds (issue 26, at 1M).
COUNTRY_MS = 300.0


def _country(settings: Settings, kind: str, app: Flask, ledger: Ledger,
             as_of: date) -> list[Result]:
    """An admin's home page and summary page of the whole country (logged in through the
    form), in milliseconds against the limit; beside each, the raw GROUP BY of the country
    that the pages ran before the counts were kept."""
    import re

    from bench.generate import BENCH_PASSWORD
    from tracker.extensions import db
    from tracker.owners.models import Org

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    login = client.post("/login", data={"username": ledger.admin, "password": BENCH_PASSWORD,
                                        "csrf_token": token.group(1) if token else ""})
    if login.status_code not in (200, 302):
        say(f"  skip whole-country pages: login answered {login.status_code}")
        return []
    with app.app_context():
        roots = list(db.session.scalars(select(Org.id).where(Org.parent_id.is_(None))))
        db.session.remove()

    def raw() -> None:
        with app.app_context():
            for root in roots:
                db.session.execute(RAW_SUMMARY_SQL, {"org_id": root, "as_of": as_of}).all()
            db.session.remove()

    results: list[Result] = []
    for name, path in (("admin home (whole country)", "/"),
                       ("summary page (whole country)", "/reports/summary")):
        resp = client.get(path)
        if resp.status_code != 200:
            say(f"  skip {name}: answered {resp.status_code}")
            continue
        size = len(resp.get_data())
        times = interleaved_medians({"real": lambda p=path: client.get(p), "raw": raw},
                                    max(5, settings.repeat // 3))
        results.append(Result(
            name, kind, ledger.issues, times["real"] * 1000, times["raw"] * 1000, "ms",
            COUNTRY_MS, kind="max",
            note=f"{size / 1024:.0f} KB of HTML; the country's raw GROUP BY "
                 f"{times['raw'] * 1000:.0f} ms",
        ))
        say(results[-1].line())
    return results


def _keyset(settings: Settings, kind: str, app: Flask, client: Any,
            ledger: Ledger) -> list[Result]:
    """Walking the ledger by ``after=`` (the documented way): the page after an issue half
    way through the country's deadlines, against ``page=100`` of the same order."""
    from tracker.extensions import db
    from tracker.issues.models import Issue

    token = token_for(app, ledger.admin)
    with app.app_context():
        anchor = db.session.scalar(select(Issue.id).order_by(Issue.due_on, Issue.id)
                                   .offset(ledger.issues // 2).limit(1))
        db.session.remove()
    after = f"/api/v1/issues?sort=due_on&page_size=50&after={anchor}"
    paged = "/api/v1/issues?sort=due_on&page_size=50&page=100"
    for path in (after, paged):
        resp = _get(client, path, token)
        if resp.status_code != 200:
            say(f"  skip keyset: {path} answered {resp.status_code}")
            return []
    times = interleaved_medians({"after": lambda: _get(client, after, token),
                                 "page": lambda: _get(client, paged, token)},
                                settings.repeat)
    result = Result("keyset page after= (country)", kind, ledger.issues,
                    times["after"] * 1000, times["page"] * 1000, "ms", 1.5,
                    note="baseline: page=100 of the same order")
    say(result.line())
    return [result]
