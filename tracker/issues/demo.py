"""``flask --app tracker demo``: load the seed report's world (``demo.toml``, read by
``demo_data``).

Everything goes through the same services as the API: orgs with their closure rows, users
with hashed passwords, findings registered by a registrar, evidence files stored like
uploads, and lifecycle transitions by the owner and the named supervisor.  The findings'
history is recorded as it happened (SPEC §9): the loader sets the clock
(``timeutil.clock``) to each day the history names before calling the service, so events,
evidence, closures and the reports' status spans carry those dates, not the day of loading.

A second campaign counts working days (``demo_data.WORKING_CAMPAIGN``): its findings are
registered with ``due_in_working_days`` on days counted back, in working days, from the day of
loading, so that it always shows working days left and overdue.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from blinker import Namespace
from flask.cli import with_appcontext
from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues import demo_data
from tracker.issues import service as issues
from tracker.issues.calendar.service import WorkingDays
from tracker.issues.evidence import service as evidence
from tracker.issues.models import WORKING, Status
from tracker.owners import service as owners
from tracker.owners.models import Org, Role, User
from tracker.timeutil import clock, local_zone, today

#: Who the history names for what the loader itself does (not a user's action).
LOADER_LABEL = "flask --app tracker demo"
ROLE_LABELS = {"admin": "管理员", "supervisor": "督查(验收销号)", "registrar": "登记员",
               "officer": "责任人"}


#: Sent once the demo's ledger is loaded, with ``users`` and ``orgs`` (by username and code)
#: and the 2018 ``campaign``: domains above the ledger add their demo rows in the same
#: transaction.
demo_loaded = Namespace().signal("demo-loaded")


def has_data() -> bool:
    """Whether the database holds any org (then the demo is not loaded)."""
    return bool(db.session.scalar(select(exists().where(Org.id.isnot(None)))))


def _at(day: date, hour: int) -> datetime:
    """``hour`` o'clock, local time, on ``day``, as a stored UTC timestamp."""
    local = datetime(day.year, day.month, day.day, hour, 0, tzinfo=local_zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def history_dates(f: demo_data.FindingSpec) -> dict[str, date]:
    """The days of a finding's history: registered on the report's date, work started the
    next Monday, evidence and submission three days before closure (or, for a finding still
    awaiting verification, ten days before its deadline), closed on the ledger's date."""
    dates = {"registered": demo_data.REGISTERED_ON, "start": demo_data.WORK_STARTED_ON}
    if "closed_on" in f:
        dates["close"] = f["closed_on"]
        dates["submit"] = max(f["closed_on"] - timedelta(days=3), dates["start"])
    else:
        dates["submit"] = max(f["due_on"] - timedelta(days=10), dates["start"])
    return dates


def load_demo() -> dict[str, int]:
    """Insert the demo world through the services; flushes, the caller commits."""
    loader = owners.system_actor(LOADER_LABEL)
    orgs: dict[str, Org] = {}
    for spec in demo_data.ORGS:
        parent = orgs[spec["parent_code"]].id if spec["parent_code"] else None
        orgs[spec["code"]] = owners.create_org(
            loader, spec["code"], spec["name"], spec["kind"], parent,
            name_bo=demo_data.BO_ORG_NAMES.get(spec["code"]))

    users: dict[str, User] = {}
    for u in demo_data.USERS:
        existing = db.session.scalar(select(User).where(User.username == u["username"]))
        if existing is not None:
            # e.g. an administrator made with create-admin before the demo: keep it as it is.
            users[u["username"]] = existing
            continue
        users[u["username"]] = owners.create_user(
            loader, u["username"], demo_data.DEMO_PASSWORD, u["role"],
            orgs[u["org_code"]].id if u["org_code"] else None,
            display_name=u["display_name"], email=u["email"], locale=u["locale"],
        )
    admin = users["admin"]

    categories = {code: issues.save_category(admin, None, code, name,
                                             name_bo=demo_data.BO_CATEGORY_NAMES.get(code))
                  for code, name in demo_data.CATEGORIES}
    camp = demo_data.CAMPAIGN
    campaign = issues.create_campaign(admin, {
        "title": camp["title"], "title_bo": camp["title_bo"], "reference": camp["reference"],
        "org_id": orgs[camp["org_code"]].id, "starts_on": camp["starts_on"],
        # Published at /public (政务公开), as the prefecture would link it from its website.
        "public": True,
    })

    registrars = [u for u in users.values() if u.role == Role.registrar]
    files = 0
    for f in demo_data.FINDINGS:
        org = orgs[f["org_code"]]
        owner = users[f["owner_username"]]
        # The registrar of the centre the finding belongs to registers it.
        registrar = next((r for r in registrars if r.org_id is not None
                          and owners.org_in_subtree(org.id, r.org_id)), admin)
        when = history_dates(f)
        with clock(_at(when["registered"], 10)):
            issue = issues.register_issue(registrar, {
                "campaign_id": campaign.id, "org_id": org.id,
                "category_id": categories[f["category_code"]].id, "title": f["title"],
                "description": f["description"], "cause": f["cause"],
                "measures": f["measures"], "owner_id": owner.id,
                "starts_on": f["starts_on"], "due_on": f["due_on"],
            })
        status = f["status"]
        if status != Status.open:
            with clock(_at(when["start"], 10)):
                issues.transition(issue, owner, "start", "已着手整改。")
        with clock(_at(when["submit"], 11)):
            for filename, content in f.get("evidence", []):
                evidence.add_evidence(owner, issue, io.BytesIO(content.encode("utf-8")),
                                      filename, "演示佐证材料")
                files += 1
            if status in (Status.submitted, Status.closed):
                issues.transition(issue, owner, "submit", "整改完成,提交验收。")
        if status == Status.closed:
            with clock(_at(when["close"], 17)):
                issues.transition(issue, users[f["closed_by"]], "close", "核查属实,同意销号。")
    files += _load_working_campaign(admin, orgs, users, categories, registrars)
    db.session.flush()
    # Others add their part of the story (supervision's urges and orders) by listening.
    demo_loaded.send(users=users, orgs=orgs, campaign=campaign)
    return {"orgs": len(orgs), "users": len(users), "categories": len(categories),
            "campaigns": 2, "findings": len(demo_data.FINDINGS) + len(demo_data.WORKING_FINDINGS),
            "evidence": files}


def _load_working_campaign(admin: User, orgs: dict[str, Org], users: dict[str, User],
                           categories: dict[str, Any], registrars: list[User]) -> int:
    """The campaign counted in working days, its days counted back from today; returns the
    number of evidence files stored."""
    days = WorkingDays()
    # Counted from the last working day up to today, so that the figures are the same on a
    # weekend: started N working days ago with M allowed leaves M − N working days.
    last_worked = today()
    if not days.is_working_day(last_worked):
        last_worked = days.previous_working_day(last_worked)

    def back(n: int) -> date:
        return days.add_working_days(last_worked, -n)

    camp = demo_data.WORKING_CAMPAIGN
    campaign = issues.create_campaign(admin, {
        "title": camp["title"], "title_bo": camp["title_bo"], "reference": camp["reference"],
        "org_id": orgs[camp["org_code"]].id,
        "starts_on": back(camp["started_working_days_ago"]), "day_basis": WORKING,
    })
    files = 0
    for f in demo_data.WORKING_FINDINGS:
        org = orgs[f["org_code"]]
        owner = users[f["owner_username"]]
        registrar = next((r for r in registrars if r.org_id is not None
                          and owners.org_in_subtree(org.id, r.org_id)), admin)
        starts_on = back(f["started_working_days_ago"])
        with clock(_at(starts_on, 10)):
            issue = issues.register_issue(registrar, {
                "campaign_id": campaign.id, "org_id": org.id,
                "category_id": categories[f["category_code"]].id, "title": f["title"],
                "description": f["description"], "cause": f["cause"],
                "measures": f["measures"], "owner_id": owner.id,
                "starts_on": starts_on, "due_in_working_days": f["due_in_working_days"],
            })
        if f["status"] == Status.open:
            continue
        with clock(_at(starts_on, 15)):
            issues.transition(issue, owner, "start", "已着手整改。")
        if "submitted_after" not in f:
            continue
        with clock(_at(days.add_working_days(starts_on, f["submitted_after"]), 11)):
            for filename, content in f.get("evidence", []):
                evidence.add_evidence(owner, issue, io.BytesIO(content.encode("utf-8")),
                                      filename, "演示佐证材料")
                files += 1
            issues.transition(issue, owner, "submit", "整改完成,提交验收。")
        if f["status"] == Status.closed:
            with clock(_at(days.add_working_days(starts_on, f["closed_after"]), 17)):
                issues.transition(issue, users[f["closed_by"]], "close", "核查属实,同意销号。")
    return files


def _pad(text: str, width: int) -> str:
    """Pad to a terminal width, counting a Chinese character as two columns."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - shown)


def logins_table() -> str:
    """The demo logins, one line per user, for the terminal."""
    names = {o["code"]: o["name"] for o in demo_data.ORGS}
    lines = [f"  Demo logins (password {demo_data.DEMO_PASSWORD}):",
             "    " + _pad("username", 19) + _pad("role", 17) + _pad("name", 11)
             + _pad("language", 10) + "org"]
    for u in demo_data.USERS:
        org = names.get(u["org_code"] or "", "(all)")
        language = "བོད་ཡིག bo" if u["locale"] == "bo" else "中文"
        lines.append("    " + _pad(u["username"], 19) + _pad(ROLE_LABELS[u["role"]], 17)
                     + _pad(u["display_name"], 11) + _pad(language, 10) + org)
    return "\n".join(lines)


@click.command("demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing (successfully) when the database already holds data.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load the seed report's prefecture, counties, categories, findings and demo users."""
    try:
        present = has_data()
    except DBAPIError as exc:
        raise click.ClickException(
            "The database has no tables yet: run `flask --app tracker db upgrade` first."
        ) from exc
    if present:
        if if_empty:
            click.echo("The database already holds data: the demo is not loaded again.")
            click.echo(logins_table())
            return
        raise click.ClickException(
            "The database already holds data; the demo loads only into an empty one. "
            "Use a fresh database (or --if-empty to skip quietly)."
        )
    try:
        counts: dict[str, Any] = load_demo()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"The demo could not be loaded: {exc.message} "
                                   f"{exc.errors or ''}".strip()) from exc
    except BaseException:
        db.session.rollback()
        raise
    click.echo("Loaded the demo: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")
    click.echo(logins_table())


#: Registered by the domain's init_app.
commands = [demo_command]
