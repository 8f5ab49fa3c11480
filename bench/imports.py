"""A 10,000-row spreadsheet import against the same rows inserted by a bare script.

``import`` is ``tracker.issues.imports.service.import_findings`` on an xlsx of ROWS findings
(every row read, checked by the registration rules, registered with its "created" event, the
hash chain, the outbox listeners), committed.  ``bare`` is what no import can beat: the same
rows, already parsed, inserted into ``issues`` by one executemany and committed, with no
check, no event and no chain.  Each round imports into a campaign of its own, so nothing is
skipped as already registered.  The figure is import / bare; the absolute import time is
printed too, because the README's production command must give a worker room for it, and
so is the time of reading the xlsx alone with openpyxl read-only (issue 26 sets the import
at ≤ 3× of it).  While each import runs, another connection writes a row every 100 ms, as
other users do, and the longest of its waits is reported (issue 26: a few seconds at most on
SQLite, where the import's write holds the database's one write lock), and so is the length
of the import's last transaction, the write (from its BEGIN to its COMMIT).

Through ``python -m bench --only imports`` the import goes into a scratch ledger generated
with the run's shape (``--issues --orgs --users``, by ``bench.generate``), as it would in
production; run alone, into an empty one unless ``BENCH_IMPORT_LEDGER=N`` asks for N issues
(2,000 orgs and 3,000 users).

    python -m bench --db sqlite,postgresql --only imports --issues 100000 --orgs 2000 --users 3000
    python -m bench.imports sqlite postgresql       # BENCH_IMPORT_ROUNDS=1 for one round
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import date
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import Result, Settings, drop_scratch, say, scratch_url

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
UNITS = 20
OFFICERS = 50
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "3"))
#: Issues generated into the ledger before the import, run alone (0: an empty ledger).
LEDGER = int(os.environ.get("BENCH_IMPORT_LEDGER", "0"))
SCHEMA = "bench_imports"


def _url(kind: str, tmp: str) -> str:
    return scratch_url(kind, tmp, SCHEMA)


def _drop(kind: str) -> None:
    drop_scratch(kind, SCHEMA)


def _setup() -> dict[str, Any]:
    """A county with UNITS units, OFFICERS officers, a category and a registrar."""
    from tracker.extensions import db
    from tracker.issues.models import Category
    from tracker.owners import service as owners

    system = owners.system_actor("bench")
    county = owners.create_org(system, "MD", "玛多县", "county", None)
    units = [owners.create_org(system, f"MD-{n:02d}", f"玛多县第{n}窗口", "department", county.id)
             for n in range(UNITS)]
    registrar = owners.create_user(system, "bench-registrar", "bench-pass-1", "registrar",
                                   county.id, display_name="登记员")
    officers = [owners.create_user(system, f"bench-officer{n}", "bench-pass-1", "officer",
                                   units[n % UNITS].id, display_name=f"责任人{n}")
                for n in range(OFFICERS)]
    from sqlalchemy import select

    category = db.session.scalar(select(Category).where(Category.code == "C1"))
    if category is None:  # an empty ledger (a generated one has its seven categories)
        category = Category(code="C1", name="窗口设置不科学,排队等待时间长")
        db.session.add(category)
    db.session.commit()
    return {"county": county, "units": units, "registrar": registrar, "officers": officers,
            "category": category}


def _campaign(world: dict[str, Any], n: int) -> int:
    from tracker.extensions import db
    from tracker.issues.models import Campaign

    campaign = Campaign(title=f"自查整改第{n}轮", reference=f"果行公〔2018〕{n}号",
                        org_id=world["county"].id, starts_on=date(2018, 7, 7))
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def _rows(world: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for n in range(ROWS):
        officer = world["officers"][n % OFFICERS]
        unit = world["units"][(n % OFFICERS) % UNITS]  # the officer's home unit
        rows.append({"org": unit.code, "category": world["category"].code,
                     "title": f"群众办事来回跑第{n}项",
                     "description": "部分审批事项仍需拿回原部门办理",
                     "cause": "窗口授权不到位", "measures": "开办培训班,提高窗口人员业务能力",
                     "owner": officer.username, "window": "2018年7月7日至2019年1月7日",
                     "org_id": unit.id, "owner_id": officer.id})
    return rows


def _xlsx(rows: list[dict[str, Any]], path: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("整改台账")
    sheet.append(["序号", "单位", "问题类别", "问题", "问题描述", "原因分析", "整改措施",
                  "责任人", "整改时限"])
    for n, r in enumerate(rows, start=1):
        sheet.append([n, r["org"], r["category"], r["title"], r["description"], r["cause"],
                      r["measures"], r["owner"], r["window"]])
    book.save(path)


def _bare(rows: list[dict[str, Any]], world: dict[str, Any], campaign_id: int) -> None:
    """The same rows, parsed already, inserted with one executemany and committed."""
    from sqlalchemy import insert

    from tracker.extensions import db
    from tracker.issues.models import Issue
    from tracker.timeutil import utcnow

    now = utcnow()
    values = [{"campaign_id": campaign_id, "org_id": r["org_id"],
               "category_id": world["category"].id, "title": r["title"],
               "description": r["description"], "cause": r["cause"], "measures": r["measures"],
               "owner_id": r["owner_id"], "registered_on": date(2018, 7, 7),
               "starts_on": date(2018, 7, 7), "due_on": date(2019, 1, 7),
               "original_due_on": date(2019, 1, 7), "status": "open", "evidence_count": 0,
               "extension_count": 0, "created_by_id": world["registrar"].id,
               "created_at": now, "updated_at": now, "version": 1, "history_hash": ""}
              for r in rows]
    db.session.execute(insert(Issue), values)
    db.session.commit()


def _read(path: str) -> float:
    """Seconds to read every cell of the xlsx with openpyxl read-only: the floor the issue
    sets the import against (≤ 3× of it)."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(path, read_only=True)
    for _row in book.worksheets[0].iter_rows(values_only=True):
        pass
    book.close()
    return time.perf_counter() - started


class _Transactions:
    """The start and end of each transaction on the app's engine: the import's last one is
    its write (on SQLite: how long other users' writes may wait for it)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine, self.spans = engine, []
        self._began: float | None = None
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)

    def _begin(self, conn: Any) -> None:
        self._began = time.perf_counter()

    def _commit(self, conn: Any) -> None:
        if self._began is not None:
            self.spans.append(time.perf_counter() - self._began)
        self._began = None

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "commit", self._commit)


class _OtherUser(threading.Thread):
    """Another user's writes during an import: one short UPDATE every 100 ms on a connection
    of its own (on SQLite with BEGIN IMMEDIATE, as the app's writers); the longest wait."""

    def __init__(self, url: str, campaign_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.campaign_id = url, campaign_id
        self.stop = threading.Event()
        self.waits: list[float] = []

    def run(self) -> None:
        if self.url.startswith("sqlite"):
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=120,
                                   isolation_level=None)

            def write() -> None:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE campaigns SET title = title WHERE id = ?",
                             (self.campaign_id,))
                conn.execute("COMMIT")
        else:
            engine = create_engine(self.url)
            sa = engine.connect()

            def write() -> None:
                sa.execute(text("UPDATE campaigns SET title = title WHERE id = :id"),
                           {"id": self.campaign_id})
                sa.commit()
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                write()
                self.waits.append(time.perf_counter() - started)
                self.stop.wait(0.1)
        finally:
            if self.url.startswith("sqlite"):
                conn.close()
            else:
                sa.close()
                engine.dispose()


def _measure(kind: str, shape: Any = None) -> list[Result]:
    from bench.generate import bench_app
    from tracker.extensions import db
    from tracker.issues.imports import service as imports

    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        url = _url(kind, tmp)
        app = bench_app(url)
        try:
            with app.app_context():
                if shape is not None and shape.issues:
                    from bench.generate import generate

                    generate(url, shape, log=say)
                else:
                    from flask_migrate import upgrade

                    upgrade()
                world = _setup()
                rows = _rows(world)
                path = os.path.join(tmp, "ledger.xlsx")
                _xlsx(rows, path)
                samples: dict[str, list[float]] = {"import": [], "bare": [], "read": [],
                                                   "wait": [], "write": []}
                probe = _campaign(world, 1000)
                for n in range(ROUNDS):
                    samples["read"].append(_read(path))
                    campaign_id = _campaign(world, 2 * n)
                    other = _OtherUser(url, probe)
                    other.start()
                    transactions = _Transactions(db.engine)
                    started = time.perf_counter()
                    report = imports.import_findings(path, "ledger.xlsx", campaign_id,
                                                     world["registrar"])
                    db.session.commit()
                    samples["import"].append(time.perf_counter() - started)
                    transactions.close()
                    samples["write"].append(transactions.spans[-1])
                    other.stop.set()
                    other.join()
                    samples["wait"].append(max(other.waits))
                    assert report.created == ROWS, report.as_dict()["errors"][:3]
                    campaign_id = _campaign(world, 2 * n + 1)
                    started = time.perf_counter()
                    _bare(rows, world, campaign_id)
                    samples["bare"].append(time.perf_counter() - started)
                    say(f"  round {n + 1}: import {samples['import'][-1]:.2f} s, bare "
                        f"{samples['bare'][-1]:.2f} s, read {samples['read'][-1]:.2f} s, "
                        f"the write transaction {samples['write'][-1]:.2f} s, "
                        f"another user's longest write {samples['wait'][-1]:.2f} s")
                took = {k: statistics.median(v) for k, v in samples.items()}
                results = [
                    Result(f"import {ROWS:,} rows vs reading the file", kind, ROWS,
                           took["import"], took["read"], "s", 3.0,
                           note=f"import {took['import']:.1f} s, reading {took['read']:.1f} s "
                           f"(openpyxl read-only); median of {ROUNDS}"),
                    Result(f"import {ROWS:,} rows (xlsx)", kind, ROWS,
                           took["import"], took["bare"], "s", 8.0,
                           note=f"against one bare executemany; median of {ROUNDS}"),
                    Result("the import's write transaction", kind, ROWS,
                           max(samples["write"]), 0.0, "s", 3.0, kind="max",
                           note=f"longest of {ROUNDS} round(s), BEGIN to COMMIT; ledger of "
                           f"{shape.issues if shape else 0:,} issues"),
                    Result("another user's write during the import", kind, ROWS,
                           max(samples["wait"]), 0.0, "s", 3.0, kind="max",
                           note=f"longest wait of a write every 100 ms, over {ROUNDS} "
                           "round(s)"),
                ]
                for result in results:
                    say(result.line())
                return results
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            _drop(kind)


def run(settings: Settings, kind: str) -> list[Result]:
    """The import of a 10,000-row xlsx against a bare insert of its rows, on ``kind``, into a
    ledger of the run's shape."""
    return _measure(kind, settings.shape())


if __name__ == "__main__":
    import sys

    from bench.generate import Shape

    for kind in sys.argv[1:] or ["sqlite"]:
        _measure(kind, Shape(issues=LEDGER, orgs=2000, users=3000) if LEDGER else None)
