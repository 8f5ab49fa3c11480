"""Fill a database with a realistic ledger at a country's scale, by bulk insert.

``python -m bench.generate --issues 1000000 --orgs 10000 [--users 10000] [--url URL]``

The database is ``--url`` or ``TRACKER_DATABASE_URL`` (a SQLite file or PostgreSQL; for
PostgreSQL give the bench its own schema, e.g. ``…/test?options=-csearch_path%3Dbench``: the
schema is dropped and re-created, so never point it at a schema others use).  The schema comes
from the project's own migrations; rows are written with ``executemany`` on SQLite and ``COPY``
on PostgreSQL, in batches, with explicit ids, closure rows computed here, one password hash
computed once and shared by every user.  ``ANALYZE`` runs at the end.

The shape (for the defaults): 20 prefectures → 10 counties each → one service centre per
county → about 48 window departments per centre; 10,000 users of every role; three campaigns
per prefecture; issues spread over departments (80 %) and centres (20 %), the seven categories,
owners on the issue's line, deadline windows from 18 months ago to 6 months ahead, a realistic
mix of statuses (about 9 % overdue), evidence and extension counts that satisfy the CHECK
constraints.  Events and evidence files are not generated: no benchmark reads them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: Bump when the generated data changes shape, so cached ledgers are rebuilt.
GENERATOR_VERSION = 9
#: The one password every generated user has (hashed once).
BENCH_PASSWORD = "bench-pass-1"
BATCH = 10_000

DEPARTMENTS = [
    "人社", "公安", "税务", "市场监管", "不动产登记", "医保", "公积金", "民政", "住建",
    "交通运输", "自然资源", "卫生健康", "教育", "农业农村", "林草", "水利", "生态环境",
    "司法", "残联", "文化旅游", "商务", "应急管理", "退役军人", "统计", "发改", "财政",
    "审计", "档案", "气象", "消防", "烟草", "邮政", "供电", "供水", "燃气", "通信",
    "出入境", "车管", "婚姻登记", "社保", "就业", "工商联", "科技", "工信", "宗教",
    "民族", "地震", "人防",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "才让卓玛扎西措毛永华建国志强秀英德吉拉毛尕藏多杰文明海燕丽娟国庆红梅"
TITLES = {
    "C1": ["部分审批事项未进驻大厅集中办理", "群众办事仍需在多个部门之间来回跑",
           "窗口授权不到位,受理后仍需拿回原部门审批"],
    "C2": ["窗口设置不合理,高峰期排队超过三十分钟", "综合窗口与专业窗口分工不清",
           "叫号系统未覆盖全部窗口"],
    "C3": ["办事指南要素不全,材料清单表述模糊", "一次性告知制度落实不到位",
           "网上办事指引与窗口要求不一致"],
    "C4": ["便民服务设施陈旧,老年人办事不便", "无障碍通道和母婴室缺失",
           "缺少免费复印和填表示范"],
    "C5": ["大厅巡查制度执行不严,窗口人员脱岗", "“灰色”中介在大厅周边招揽业务",
           "考勤和评价结果未与考核挂钩"],
    "C6": ["部分事项收取无依据的工本费", "收费公示不完整", "要求群众自费提供非必要材料"],
    "C7": ["部门业务系统未与政务服务平台对接", "数据共享不畅,群众重复提交材料",
           "电子证照未能互认"],
}
CAUSES = [
    "部门对集中审批改革认识不到位,授权不充分,窗口人员业务能力不足。",
    "制度建设滞后,监督考核机制不健全,责任落实不到位。",
    "信息化建设投入不足,各部门系统标准不一,数据难以共享。",
    "服务意识淡薄,对群众需求调查不够,便民措施落实不细。",
]
MEASURES = [
    "开办窗口业务培训班,提高窗口人员业务能力;督促部门充分授权,做到应进必进。",
    "完善大厅管理制度,落实首问负责、一次性告知和限时办结制度,加强日常巡查。",
    "推进部门系统与政务服务平台对接,建立数据共享目录,实现电子证照互认。",
    "增设便民服务设施,开展群众满意度调查,按季度通报整改落实情况。",
]


@dataclass
class Shape:
    """How many of each thing to generate."""

    issues: int = 1_000_000
    orgs: int = 10_000
    users: int = 10_000
    seed: int = 20180707
    #: The date the ledger is "now" (overdue is reckoned against it).
    today: date = field(default_factory=lambda: local_today())

    def key(self) -> dict[str, Any]:
        """What identifies one generated ledger (to reuse it instead of rebuilding)."""
        d = asdict(self)
        d["today"] = self.today.isoformat()
        d["version"] = GENERATOR_VERSION
        return d


def local_today() -> date:
    """Today in the app's default time zone (Asia/Shanghai), as the app reckons it."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(os.environ.get("TRACKER_TIMEZONE", "Asia/Shanghai"))).date()


@dataclass
class Ledger:
    """What a benchmark needs to know about a generated ledger."""

    issues: int
    orgs: int
    users: int
    today: str
    admin: str
    prefecture_id: int
    prefecture_supervisor: str
    county_id: int
    county_supervisor: str
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


# --- the org tree ------------------------------------------------------------------------


@dataclass
class _Org:
    id: int
    code: str
    name: str
    kind: str
    parent: _Org | None
    depth: int
    users: dict[str, list[int]] = field(default_factory=dict)

    def line_up(self) -> Iterator[_Org]:
        node: _Org | None = self
        while node is not None:
            yield node
            node = node.parent


def _org_tree(n_orgs: int) -> list[_Org]:
    """Prefectures → 10 counties → 1 centre → departments, about ``n_orgs`` in all."""
    n_pref = max(1, n_orgs // 500)
    counties_per = 10
    n_centres = n_pref * counties_per
    depts_per = max(1, (n_orgs - n_pref - 2 * n_centres) // n_centres)
    extra = max(0, n_orgs - n_pref - 2 * n_centres - depts_per * n_centres)
    orgs: list[_Org] = []

    def add(code: str, name: str, kind: str, parent: _Org | None) -> _Org:
        org = _Org(len(orgs) + 1, code, name, kind, parent, 0 if parent is None else
                   parent.depth + 1)
        orgs.append(org)
        return org

    for p in range(1, n_pref + 1):
        pref = add(f"P{p:02d}", f"第{p}州", "prefecture", None)
        for c in range(1, counties_per + 1):
            county = add(f"P{p:02d}C{c:02d}", f"第{p}州第{c}县", "county", pref)
            centre = add(f"{county.code}Z", f"{county.name}政务服务中心", "centre", county)
            count = depts_per + (1 if extra > 0 else 0)
            extra -= 1
            for d in range(1, count + 1):
                label = DEPARTMENTS[(d - 1) % len(DEPARTMENTS)]
                suffix = "" if d <= len(DEPARTMENTS) else str((d - 1) // len(DEPARTMENTS) + 1)
                add(f"{centre.code}D{d:03d}", f"{label}窗口{suffix}", "department", centre)
    return orgs


def _users(orgs: list[_Org], n_users: int, rng: random.Random) -> list[dict[str, Any]]:
    """Admins; supervisors at prefectures and counties; registrars and officers at centres;
    the remaining officers spread over departments."""
    rows: list[dict[str, Any]] = []

    def add(username: str, role: str, org: _Org | None) -> None:
        uid = len(rows) + 1
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        rows.append({"id": uid, "username": username, "display_name": name,
                     "email": f"{username}@bench.example.gov.cn", "role": role,
                     "org_id": org.id if org else None})
        if org is not None:
            org.users.setdefault(role, []).append(uid)

    for k in range(1, 6):
        add(f"admin{k}", "admin", None)
    by_kind: dict[str, list[_Org]] = {}
    for org in orgs:
        by_kind.setdefault(org.kind, []).append(org)
    for org in by_kind["prefecture"]:
        for k in range(1, 4):
            add(f"sup.{org.code}.{k}", "supervisor", org)
    for org in by_kind["county"]:
        for k in range(1, 3):
            add(f"sup.{org.code}.{k}", "supervisor", org)
        add(f"reg.{org.code}.1", "registrar", org)
    for org in by_kind["centre"]:
        for k in range(1, 3):
            add(f"reg.{org.code}.{k}", "registrar", org)
        for k in range(1, 6):
            add(f"off.{org.code}.{k}", "officer", org)
    depts = by_kind.get("department", [])
    k = 0
    while len(rows) < n_users and depts:
        org = depts[k % len(depts)]
        add(f"off.{org.code}.{k // len(depts) + 1}", "officer", org)
        k += 1
    return rows


# --- issues ------------------------------------------------------------------------------

ISSUE_COLUMNS = (
    "id", "campaign_id", "org_id", "category_id", "title", "description", "cause", "measures",
    "owner_id", "starts_on", "due_on", "original_due_on", "status", "evidence_count",
    "extension_count", "version", "created_by_id", "created_at", "updated_at", "closed_at",
    "closed_by_id", "closed_on", "registered_on",
)
SPAN_COLUMNS = (
    "id", "issue_id", "valid_from", "valid_to", "status", "due_on", "closed_on",
    "extension_count", "org_id", "category_id", "campaign_id", "owner_id",
)
_COL = {name: i for i, name in enumerate(ISSUE_COLUMNS)}


def _local_midnight(day: date) -> datetime:
    """The start of ``day`` in the app's zone, as a stored (naive UTC) timestamp."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(os.environ.get("TRACKER_TIMEZONE", "Asia/Shanghai"))
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).replace(
        tzinfo=None)


def span_rows(row: tuple[Any, ...], first_span_id: int) -> list[tuple[Any, ...]]:
    """The status spans of one generated issue (what the app's listener would have written):
    registered open on its first due date, then started, extended, submitted and closed as
    its final state says, at even steps between its creation and its last change."""
    c = _COL
    status, ext = row[c["status"]], row[c["extension_count"]]
    created, end = row[c["created_at"]], row[c["closed_at"]] or row[c["updated_at"]]
    end = max(end, created)
    steps: list[dict[str, Any]] = [{"status": "open", "due_on": row[c["original_due_on"]],
                                    "closed_on": None, "extension_count": 0}]
    if status != "open":
        steps.append({**steps[-1], "status": "in_progress"})
    if ext:
        steps.append({**steps[-1], "due_on": row[c["due_on"]], "extension_count": ext})
    if status in ("submitted", "closed"):
        steps.append({**steps[-1], "status": "submitted"})
    if status == "closed":
        steps.append({**steps[-1], "status": "closed", "closed_on": row[c["closed_on"]]})
    starts = [_local_midnight(row[c["registered_on"]])]
    changes = len(steps) - 1
    for k in range(1, changes + 1):
        starts.append(created + (end - created) * k / changes if k < changes else end)
    fixed = (row[c["org_id"]], row[c["category_id"]], row[c["campaign_id"]], row[c["owner_id"]])
    out = []
    for k, step in enumerate(steps):
        valid_to = starts[k + 1] if k + 1 < len(steps) else None
        out.append((first_span_id + k, row[c["id"]], starts[k], valid_to, step["status"],
                    step["due_on"], step["closed_on"], step["extension_count"], *fixed))
    return out


def _at(day: date, hour: int = 2) -> datetime:
    """A UTC timestamp on ``day`` (02:00 UTC is 10:00 in China: the same local date)."""
    return datetime(day.year, day.month, day.day, hour)


def issue_rows(
    shape: Shape, orgs: list[_Org], campaigns: dict[int, list[tuple[int, date]]],
    categories: Sequence[tuple[int, str]], rng: random.Random, first_id: int = 1,
    count: int | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Issues spread over orgs, categories, owners, statuses and deadline windows."""
    today = shape.today
    departments = [o for o in orgs if o.kind == "department"]
    centres = [o for o in orgs if o.kind == "centre"]
    n = shape.issues if count is None else count
    for i in range(first_id, first_id + n):
        org = rng.choice(departments) if departments and rng.random() < 0.8 else \
            rng.choice(centres)
        # The owner: an officer of the org itself when it has one, else of its centre.
        officers = org.users.get("officer") or (org.parent.users.get("officer")
                                                if org.parent else None)
        assert officers, f"no officer on the line of {org.code}"
        owner = rng.choice(officers)
        centre = org if org.kind == "centre" else org.parent
        assert centre is not None and centre.parent is not None
        county = centre.parent
        prefecture = county.parent or county
        registrar = rng.choice(centre.users.get("registrar") or [None])
        verifiers = county.users.get("supervisor") or prefecture.users["supervisor"]
        cat_id, cat_code = rng.choice(categories)
        camp_id, camp_start = rng.choice(campaigns[prefecture.id])
        # Deadlines from 18 months ago to 6 months ahead of today.
        due_on = today + timedelta(days=rng.randint(-540, 180))
        starts_on = max(camp_start, due_on - timedelta(days=rng.randint(30, 365)))
        if starts_on > due_on:
            starts_on = due_on
        original_due_on = due_on
        extension_count = 0
        if rng.random() < 0.08:
            extension_count = 1 if rng.random() < 0.85 else 2
            original_due_on = max(starts_on, due_on - timedelta(days=rng.randint(15, 90)))
        r = rng.random()
        if due_on < today:
            # Most past deadlines are closed; about 12 % are still open: overdue.
            status = ("closed" if r < 0.85 else "submitted" if r < 0.88 else
                      "in_progress" if r < 0.95 else "open")
        else:
            status = ("open" if r < 0.35 else "in_progress" if r < 0.80 else
                      "submitted" if r < 0.90 else "closed")
        if status in ("submitted", "closed"):
            evidence_count = rng.randint(1, 4)
        elif status == "in_progress" and rng.random() < 0.4:
            evidence_count = rng.randint(1, 2)
        else:
            evidence_count = 0
        closed_at = closed_by = closed_on = None
        if status == "closed":
            # About one in five is closed after its deadline (逾期办结).
            if rng.random() < 0.2 and due_on < today:
                late = min(today, due_on + timedelta(days=45))
                closed_on = due_on + timedelta(days=rng.randint(1, max(1, (late - due_on).days)))
            else:
                span = max(0, (min(today, due_on) - starts_on).days)
                closed_on = starts_on + timedelta(days=rng.randint(0, span))
            closed_at = _at(closed_on, rng.randint(1, 9))
            closed_by = rng.choice(verifiers)
        version = {"open": 1, "in_progress": 2, "submitted": 3, "closed": 4}[status]
        version += extension_count
        created_at = _at(starts_on)
        updated_at = closed_at or _at(min(today, starts_on + timedelta(days=rng.randint(0, 90))))
        registered_on = min(starts_on, today)  # never after today
        title = f"{rng.choice(TITLES[cat_code])}（{i}）"
        yield (
            i, camp_id, org.id, cat_id, title,
            f"{org.name}自查发现:{title[:-len(str(i)) - 2]}。",
            rng.choice(CAUSES), rng.choice(MEASURES), owner, starts_on, due_on,
            original_due_on, status, evidence_count, extension_count, version, registrar,
            created_at, updated_at, closed_at, closed_by, closed_on, registered_on,
        )


# --- writing -----------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """The text SQLAlchemy stores for dates and timestamps on SQLite."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _batches(rows: Iterable[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(conn: Any, table: str, columns: Sequence[str],
                rows: Iterable[tuple[Any, ...]]) -> int:
    """Write rows fast: COPY on PostgreSQL, executemany in batches on SQLite."""
    raw = conn.connection.driver_connection
    cols = ", ".join(columns)
    n = 0
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    marks = ", ".join("?" for _ in columns)
    cur = raw.cursor()
    for batch in _batches(rows):
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                        [tuple(_sqlite_value(v) for v in row) for row in batch])
        n += len(batch)
    cur.close()
    return n


def prepare_database(url: str) -> None:
    """Start from nothing: delete the SQLite file or drop and re-create the PostgreSQL schema."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = u.database or ""
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        return
    schema = pg_schema(url)
    if schema in (None, "public"):
        raise SystemExit("Give the bench its own PostgreSQL schema: "
                         "…?options=-csearch_path%3Dbench (it is dropped and re-created).")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


#: The tables the generator loads in bulk (PostgreSQL: their secondary indexes and
#: constraints are set aside during the load).
LOADED_TABLES = ("orgs", "org_closure", "users", "categories", "campaigns", "issues",
                 "issue_spans", "issue_search", "issue_counts")


def drop_secondary(conn: Any) -> list[tuple[str, str, str]]:
    """PostgreSQL: drop the loaded tables' foreign keys, unique constraints and indexes other
    than the primary keys; what was dropped, as (kind, table, definition), in the order to
    put it back (``restore_secondary``)."""
    tables = list(LOADED_TABLES)
    fks = conn.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace "
        "AND (conrelid::regclass::text = ANY(:t) OR confrelid::regclass::text = ANY(:t)) "
        "ORDER BY conname"), {"t": tables}).all()
    uniques = conn.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'u' AND connamespace = current_schema()::regnamespace "
        "AND conrelid::regclass::text = ANY(:t) ORDER BY conname"), {"t": tables}).all()
    indexes = conn.execute(text(
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = ANY(:t) AND indexname NOT IN ("
        "SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u') "
        "AND connamespace = current_schema()::regnamespace) ORDER BY indexname"),
        {"t": tables}).all()
    for table, name, _ in fks:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for table, name, _ in uniques:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for _table, name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return ([("index", t, d) for t, _n, d in indexes]
            + [("constraint", t, f'ADD CONSTRAINT "{n}" {d}') for t, n, d in uniques]
            + [("constraint", t, f'ADD CONSTRAINT "{n}" {d}') for t, n, d in fks])


def restore_secondary(conn: Any, saved: list[tuple[str, str, str]]) -> None:
    """Put back what ``drop_secondary`` set aside: indexes, then unique constraints, then
    the foreign keys (each checked once over its whole table)."""
    conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
    for kind, table, definition in saved:
        if kind == "index":
            conn.exec_driver_sql(definition)
        else:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" {definition}')


def pg_schema(url: str) -> str | None:
    """The schema named by ``options=-csearch_path=…`` in a PostgreSQL URL."""
    options = make_url(url).query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    if not options or "search_path" not in options:
        return None
    return options.split("search_path=", 1)[1].split()[0].split(",")[0].strip('"')


def migrate(url: str) -> None:
    """Bring the database to the head revision with the project's own migrations."""
    from flask_migrate import upgrade

    app = bench_app(url)
    with app.app_context():
        upgrade()
        from tracker.extensions import db

        db.engine.dispose()


def bench_app(url: str, **config: Any) -> Any:
    """The real application on ``url`` (quiet logging, a fixed secret, a cheap test hash)."""
    from tracker import create_app

    values: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret",
        "TRACKER_SMTP_HOST": "",
    }
    values.update(config)
    return create_app(values)


def generate(url: str, shape: Shape, *, log: Any = print) -> Ledger:
    """Build the ledger described by ``shape`` into the (emptied) database at ``url``."""
    started = time.perf_counter()
    prepare_database(url)
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # A throw-away load: no syncing, and a cache big enough for the indexes.
            conn.exec_driver_sql("PRAGMA synchronous = OFF")
            conn.exec_driver_sql("PRAGMA cache_size = -1000000")
            ledger = fill(conn, shape, log=log)
        else:
            # PostgreSQL: load into bare tables, then build each index and check each
            # foreign key once over the whole table (row by row, the checks and the index
            # inserts were most of the load: 176 s at a million issues, bench/README.md).
            saved = drop_secondary(conn)
            log(f"  {len(saved)} foreign keys, unique constraints and indexes set aside")
            ledger = fill(conn, shape, log=log)
            began = time.perf_counter()
            restore_secondary(conn, saved)
            log(f"  indexes and constraints rebuilt ({time.perf_counter() - began:.1f} s)")
    analyze(engine)
    engine.dispose()
    ledger.seconds = round(time.perf_counter() - started, 1)
    write_marker(url, shape, ledger)
    log(f"  analysed; ledger ready in {ledger.seconds:.1f} s")
    return ledger


@dataclass
class _World:
    orgs: list[_Org]
    users: list[dict[str, Any]]
    campaigns: dict[int, list[tuple[int, date]]]
    campaign_rows: list[tuple[Any, ...]]
    categories: list[tuple[int, str]]


def _world(shape: Shape) -> _World:
    """The org tree, users and campaigns of ``shape`` (the same every time for one seed)."""
    from tracker.issues.demo_data import CATEGORIES

    orgs = _org_tree(shape.orgs)
    users = _users(orgs, shape.users, random.Random(shape.seed))
    now = _at(shape.today)
    campaigns: dict[int, list[tuple[int, date]]] = {}
    campaign_rows: list[tuple[Any, ...]] = []
    for pref in (o for o in orgs if o.kind == "prefecture"):
        for k, years_ago in enumerate((2, 1, 0), start=1):
            cid = len(campaign_rows) + 1
            start = date(shape.today.year - years_ago, 3, 1)
            if start > shape.today:
                start = shape.today - timedelta(days=30)
            campaign_rows.append((cid, f"{pref.name}政务服务自查整改({start.year})",
                                  f"{pref.code}行公〔{start.year}〕{k}号", pref.id, start, now))
            campaigns.setdefault(pref.id, []).append((cid, start))
    categories = [(i, code) for i, (code, _name) in enumerate(CATEGORIES, start=1)]
    return _World(orgs, users, campaigns, campaign_rows, categories)


def fill(conn: Any, shape: Shape, *, log: Any = print, password_hash: str | None = None
         ) -> Ledger:
    """Write the whole ledger of ``shape`` through ``conn`` into empty, migrated tables."""
    from werkzeug.security import generate_password_hash

    from tracker.issues.demo_data import CATEGORIES
    from tracker.text import username_key

    started = time.perf_counter()
    world = _world(shape)
    orgs, users = world.orgs, world.users
    # One scrypt hash for everyone: hashing ten thousand would take many minutes.
    password_hash = password_hash or generate_password_hash(BENCH_PASSWORD)
    now = _at(shape.today)
    counts: dict[str, int] = {}
    counts["orgs"] = bulk_insert(
        conn, "orgs", ("id", "code", "name", "kind", "parent_id", "depth", "created_at"),
        ((o.id, o.code, o.name, o.kind, o.parent.id if o.parent else None, o.depth, now)
         for o in orgs))
    counts["org_closure"] = bulk_insert(
        conn, "org_closure", ("ancestor_id", "descendant_id", "distance"),
        ((a.id, o.id, o.depth - a.depth) for o in orgs for a in o.line_up()))
    counts["users"] = bulk_insert(
        conn, "users", ("id", "username", "display_name", "email", "org_id", "role",
                        "password_hash", "active", "locale", "auth_generation", "created_at",
                        "username_key"),
        ((u["id"], u["username"], u["display_name"], u["email"], u["org_id"], u["role"],
          password_hash, True, None, 0, now, username_key(u["username"])[:80])
         for u in users))
    counts["categories"] = bulk_insert(
        conn, "categories", ("id", "code", "name"),
        ((i, code, name) for i, (code, name) in enumerate(CATEGORIES, start=1)))
    counts["campaigns"] = bulk_insert(
        conn, "campaigns", ("id", "title", "reference", "org_id", "starts_on", "created_at"),
        world.campaign_rows)
    log(f"  orgs, users, campaigns written ({time.perf_counter() - started:.1f} s)")
    counts["issues"] = append_issues(conn, shape, shape.issues, first_id=1, world=world)
    log(f"  {counts['issues']:,} issues written ({time.perf_counter() - started:.1f} s)")
    county = next(o for o in orgs if o.kind == "county")
    pref = next(o for o in orgs if o.kind == "prefecture")
    return Ledger(
        issues=shape.issues, orgs=len(orgs), users=len(users), today=shape.today.isoformat(),
        admin="admin1", prefecture_id=pref.id, prefecture_supervisor=f"sup.{pref.code}.1",
        county_id=county.id, county_supervisor=f"sup.{county.code}.1",
        seconds=round(time.perf_counter() - started, 1), counts=counts,
    )


def append_issues(conn: Any, shape: Shape, count: int, *, first_id: int,
                  world: _World | None = None) -> int:
    """Add ``count`` generated issues with ids from ``first_id`` to the ledger of ``shape``."""
    world = world or _world(shape)
    rng = random.Random(shape.seed * 1_000_003 + first_id)
    next_span = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM issue_spans"))
                    .scalar_one()) + 1
    from tracker.issues.search import scope_tokens

    n = 0
    scopes = {o.id: scope_tokens(a.id for a in o.line_up()) for o in world.orgs}
    # Issues and their status spans in step, a batch at a time (bounded memory).
    for batch in _batches(issue_rows(shape, world.orgs, world.campaigns, world.categories,
                                     rng, first_id=first_id, count=count)):
        n += bulk_insert(conn, "issues", ISSUE_COLUMNS, batch)
        spans: list[tuple[Any, ...]] = []
        for row in batch:
            spans += span_rows(row, next_span)
            next_span = spans[-1][0] + 1
        bulk_insert(conn, "issue_spans", SPAN_COLUMNS, spans)
        bulk_insert(conn, "issue_search", SEARCH_COLUMNS, _search_rows(batch, scopes))
    reset_sequences(conn)
    # Each issue's county, the summary's kept counts and the trend's kept past days, as
    # migrations 0023, 0020 and 0024 build them for an existing ledger.
    from tracker.issues.counties import refill
    from tracker.issues.reports.counts import rebuild
    from tracker.issues.reports.daily import build_past

    refill(conn)
    rebuild(conn, shape.today)
    build_past(conn, shape.today)
    return n


#: The search index's columns (tracker/issues/search.py), one row per issue (PostgreSQL
#: computes ``vector`` from them).
SEARCH_COLUMNS = ("issue_id", "tokens", "body", "scope")


def _search_rows(batch: list[tuple[Any, ...]], scopes: dict[int, str],
                 ) -> Iterator[tuple[Any, ...]]:
    """The search index's rows of these generated issues, as the ledger writes them
    (``scopes``: each org's ``scope_tokens``, from the same tree as the org closure)."""
    from tracker.issues.search import FIELDS, index_row

    at = [ISSUE_COLUMNS.index(f) for f in FIELDS]
    org_at = ISSUE_COLUMNS.index("org_id")
    for row in batch:
        found = index_row(row[0], [row[i] for i in at])
        found["scope"] = scopes[row[org_at]]
        yield tuple(found[c] for c in SEARCH_COLUMNS)


def reset_sequences(conn: Any) -> None:
    """After rows with explicit ids, PostgreSQL's sequences must continue after them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("orgs", "users", "categories", "campaigns", "issues", "issue_spans"):
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))


def analyze(engine: Any) -> None:
    """Refresh the planner's statistics after a bulk load."""
    if engine.dialect.name == "postgresql":
        # VACUUM as autovacuum would soon after a bulk load: it sets the visibility map,
        # without which no index-only scan avoids the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# --- reuse -------------------------------------------------------------------------------


def _marker_path(url: str) -> str:
    return (make_url(url).database or "") + ".bench.json"


def write_marker(url: str, shape: Shape, ledger: Ledger) -> None:
    """Remember what was generated, so that the next run can reuse it."""
    payload = json.dumps({"shape": shape.key(), "ledger": asdict(ledger)})
    if make_url(url).get_backend_name() == "sqlite":
        with open(_marker_path(url), "w", encoding="utf-8") as fh:
            fh.write(payload)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'COMMENT ON SCHEMA "{pg_schema(url)}" IS '
                          + "'" + payload.replace("'", "''") + "'"))
    engine.dispose()


def read_marker(url: str) -> dict[str, Any] | None:
    """What an earlier run generated at ``url``, if anything."""
    try:
        if make_url(url).get_backend_name() == "sqlite":
            with open(_marker_path(url), encoding="utf-8") as fh:
                return json.loads(fh.read())  # type: ignore[no-any-return]
        engine = create_engine(url)
        with engine.connect() as conn:
            raw = conn.scalar(text(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
                "WHERE nspname = :s"), {"s": pg_schema(url)})
        engine.dispose()
        return json.loads(raw) if raw else None
    except (OSError, ValueError, Exception):  # noqa: BLE001 - anything unreadable: rebuild
        return None


def ensure_ledger(url: str, shape: Shape, *, fresh: bool = False, log: Any = print) -> Ledger:
    """Reuse the ledger at ``url`` when it was generated with ``shape``; build it otherwise.

    A reused ledger is brought to the current migration head (new indexes, for example).
    """
    marker = None if fresh else read_marker(url)
    if marker and marker.get("shape") == shape.key():
        migrate(url)
        analyze_engine = create_engine(url)
        analyze(analyze_engine)
        analyze_engine.dispose()
        log(f"  reusing the ledger at {redact(url)}")
        return Ledger(**marker["ledger"])
    log(f"  generating {shape.issues:,} issues, {shape.orgs:,} orgs, {shape.users:,} users "
        f"into {redact(url)}")
    return generate(url, shape, log=log)


def redact(url: str) -> str:
    """A URL fit to print."""
    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: generate one ledger."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=Shape.seed)
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the ledger's today (default: today)")
    parser.add_argument("--url", default=os.environ.get("TRACKER_DATABASE_URL"),
                        help="database URL (default TRACKER_DATABASE_URL)")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("give --url or set TRACKER_DATABASE_URL")
    shape = Shape(issues=args.issues, orgs=args.orgs, users=args.users, seed=args.seed,
                  today=args.today or local_today())
    ledger = generate(args.url, shape)
    json.dump(asdict(ledger), sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
