"""Supervision by hand (督办, SPEC §5): urges (催办) and supervision orders (督办单).

Plain functions of the actor and plain values, as the ledger's services are: they check
permission and state, write the rows, let the ledger record the issue's side (``issues.chase``)
and flush; the request, command or pass commits once.  Notices and webhooks listen: to the
ledger's events for urges (``urged``), to ``orders_changed`` for orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, Table, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tracker.errors import Conflict, DomainError, Forbidden, NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import chase, rules
from tracker.issues import service as issues
from tracker.issues.calendar.service import WorkingDays
from tracker.issues.models import OPEN_STATUSES, Issue, Status
from tracker.issues.reports.rectification import SupervisionFigures
from tracker.owners import service as owners
from tracker.owners.models import Org, Role, User
from tracker.supervision.models import (
    LEVELS,
    OPEN_ORDER_STATUSES,
    Order,
    OrderAlert,
    OrderCounter,
    OrderIssue,
    OrderStatus,
    Urge,
)
from tracker.timeutil import (
    end_of_day,
    in_domain,
    local_date_of,
    local_start_of,
    out_of_range_message,
    today,
    utcnow,
)

COUNTERS = cast(Table, OrderCounter.__table__)
ALERTS = cast(Table, OrderAlert.__table__)

_signals = Namespace()
#: Supervision announces what happened to an order: sent with ``order`` and ``kind``
#: (``issued``, ``acknowledged``, ``replied``, ``returned``, ``closed``, ``overdue``), and
#: ``actor`` and ``step``, in the transaction of the change; notices and webhooks listen.
orders_changed = _signals.signal("orders-changed")

#: Urging needs the roles that register findings (SPEC §3), in scope, never one's own.
URGERS = rules.EDITORS
MAX_COMMENT = 2000
#: Issues one order names at most (the API's limit too).
MAX_ORDER_ISSUES = 500


# --- urges (催办) ------------------------------------------------------------------------


def _seconds_to_midnight() -> int:
    """Seconds until the next local midnight: when the next urge of the day is allowed."""
    return max(1, int((local_start_of(today() + timedelta(days=1)) - utcnow())
                      .total_seconds()) + 1)


def urge_refusal(actor: User, issue: Issue) -> DomainError | None:
    """Why ``actor`` may not urge ``issue`` now (role, ownership, state, once a day), or None."""
    if actor.role not in URGERS or not owners.in_scope(actor, issue.org_id):
        return Forbidden(_l("Only registrars, supervisors and admins in scope urge."),
                         reason="urge_forbidden")
    if issue.owner_id == actor.id:
        return Forbidden(_l("You own this issue; you cannot urge yourself."),
                         reason="own_issue")
    if issue.status == Status.closed:
        return Conflict(_l("A closed issue is read-only until reopened."), reason="issue_closed")
    urged = db.session.scalar(select(Urge.id).where(Urge.issue_id == issue.id,
                                                     Urge.urged_on == today()))
    if urged is not None:
        return Conflict(_l("This issue was urged today already; it may be urged again "
                           "tomorrow."), reason="recently_urged",
                        headers={"Retry-After": str(_seconds_to_midnight())})
    return None


def urge(actor: User, issue: Issue, comment: str = "") -> Urge:
    """Urge ``issue`` (SPEC §5): an ``urged`` event in its history, the owner told, the
    issue's urge count and last urge kept.  Once per issue per local day, whoever urges."""
    refusal = urge_refusal(actor, issue)
    if refusal is not None:
        raise refusal
    now = utcnow()
    row = Urge(issue_id=issue.id, actor_id=actor.id, comment=(comment or "").strip(),
               created_at=now, urged_on=local_date_of(now))
    db.session.add(row)
    chase.mark_urged(issue, actor, row.comment, now)
    return row


def list_urges(issue: Issue) -> list[Urge]:
    """The urges of an issue, oldest first."""
    return list(db.session.scalars(select(Urge).where(Urge.issue_id == issue.id)
                                   .order_by(Urge.id)))


@dataclass
class UrgeResult:
    """What urging one of several issues did."""

    issue_id: int
    status: int
    urge: Urge | None = None
    reason: str | None = None
    message: str | None = None


def urge_many(actor: User, issue_ids: Sequence[int], comment: str = "") -> list[UrgeResult]:
    """Urge several issues at once, each under the same rules and on its own: a refusal of
    one (not found, not allowed, closed, urged today) leaves the others urged."""
    results = []
    for issue_id in dict.fromkeys(issue_ids):
        savepoint = db.session.begin_nested()
        try:
            issue = issues.get_issue(actor, issue_id, for_update=True)
            row = urge(actor, issue, comment)
            savepoint.commit()
            results.append(UrgeResult(issue_id, 201, urge=row))
        except DomainError as exc:
            savepoint.rollback()
            results.append(UrgeResult(issue_id, exc.status, reason=exc.reason,
                                      message=str(exc.message)))
    return results


# --- orders (督办单): who and what ------------------------------------------------------

#: Endings of an org's name that its short name in an order number leaves out, longest first:
#: 果洛藏族自治州 → 果洛, 玛多县行政服务中心 → 玛多.
NAME_ENDINGS = ("行政服务和公共资源交易中心", "行政服务中心", "藏族自治州", "自治州", "自治县",
                "州", "县", "市")


def short_name(org: Org) -> str:
    """The org's short name as an order number prints it (果洛藏族自治州 → 果洛)."""
    name = org.name.strip()
    changed = True
    while changed:
        changed = False
        for ending in NAME_ENDINGS:
            if name.endswith(ending) and len(name) > len(ending):
                name, changed = name[: -len(ending)], True
                break
    return name


def order_number(org: Org, year: int, seq: int) -> str:
    """The printed number of an order: 果洛督〔2018〕3号."""
    return f"{short_name(org)}督〔{year}〕{seq}号"


def may_issue(actor: User) -> bool:
    """Whether ``actor``'s role issues orders (supervisors and admins)."""
    return actor.role in rules.VERIFIERS


def may_answer(actor: User, order: Order) -> bool:
    """Whether ``actor`` signs for and answers ``order``: its org's registrars and
    supervisors, and admins."""
    if actor.role == Role.admin:
        return True
    return actor.role in (Role.registrar, Role.supervisor) and \
        actor.org_id == order.org_id


def may_decide(actor: User, order: Order) -> bool:
    """Whether ``actor`` closes or returns ``order``: its issuer, or an admin."""
    return actor.role == Role.admin or actor.id == order.issued_by_id


def readable_orders(actor: User) -> Any:
    """WHERE clause: the orders ``actor`` may read (received by their scope, or issued)."""
    if actor.role == Role.admin:
        return Order.id.is_not(None)
    if actor.org_id is None or actor.role == Role.officer:
        return or_(Order.id.in_(select(OrderIssue.order_id).join(
            Issue, Issue.id == OrderIssue.issue_id).where(Issue.owner_id == actor.id)))
    return or_(Order.org_id.in_(owners.subtree_ids(actor.org_id)),
               Order.issued_by_id == actor.id)


def get_order(actor: User, order_id: int, *, for_update: bool = False) -> Order:
    """The order with this id if ``actor`` may read it; 404 otherwise."""
    stmt = select(Order).where(Order.id == order_id, readable_orders(actor))
    if for_update and db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound(_l("No such order."))
    return order


def order_issue_ids(order: Order) -> list[int]:
    """The ids of the issues ``order`` names."""
    return list(db.session.scalars(select(OrderIssue.issue_id)
                                   .where(OrderIssue.order_id == order.id)
                                   .order_by(OrderIssue.issue_id)))


def _claim_number(issuing_org_id: int, year: int) -> int:
    """The next number of the org's orders in ``year``, claimed in this transaction: the
    counter row is created once and then incremented in place (UPDATE … RETURNING), so a
    second issuer waits for the first to commit and takes the next number — gapless, unique
    and in order of issue (PostgreSQL locks the row; SQLite serialises writers)."""
    dialect = db.session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(COUNTERS)
    db.session.execute(ins.values(issuing_org_id=issuing_org_id, year=year, last=0)
                       .on_conflict_do_nothing(index_elements=["issuing_org_id", "year"]))
    claimed = db.session.execute(
        update(COUNTERS)
        .where(OrderCounter.issuing_org_id == issuing_org_id, OrderCounter.year == year)
        .values(last=OrderCounter.last + 1)
        .returning(OrderCounter.last)).scalar_one()
    return int(claimed)


def _issuing_org(actor: User, org: Org) -> Org:
    """The org in whose name ``actor`` issues: their home org; for an admin without one, the
    top of the addressed org's line."""
    if actor.org_id is not None:
        found = db.session.get(Org, actor.org_id)
        assert found is not None
        return found
    top = org
    while top.parent_id is not None:
        parent = db.session.get(Org, top.parent_id)
        assert parent is not None
        top = parent
    return top


def issue_order(actor: User, values: dict[str, Any]) -> Order:
    """Issue a supervision order (SPEC §5): to an org in the issuer's scope but not their
    home org itself, on open issues of that org's subtree, with a level and a reply date after
    today.  Numbered per issuing org and year; an ``ordered`` event on each issue."""
    if not may_issue(actor):
        raise Forbidden(_l("Only supervisors and admins issue supervision orders."),
                        reason="supervisor_only")
    errors: dict[str, list[Any]] = {}
    org_id = values.get("org_id")
    org = db.session.get(Org, org_id) if org_id is not None else None
    if org is None or not owners.in_scope(actor, org.id):
        errors["org_id"] = [_l("No such org in your scope.")]
    elif actor.role != Role.admin and org.id == actor.org_id:
        errors["org_id"] = [_l("An order goes to a unit below your own, not to your own.")]
    if values.get("level") not in LEVELS:
        errors["level"] = [_l("One of %(choices)s.", choices=", ".join(LEVELS))]
    reply_by = values.get("reply_by")
    if not isinstance(reply_by, date):
        errors["reply_by"] = [_l("Required.")]
    elif not in_domain(reply_by):  # the ledger's one domain of dates (SPEC §4)
        errors["reply_by"] = [out_of_range_message()]
    elif reply_by <= today():
        errors["reply_by"] = [_l("The reply date must be after today.")]
    ids = list(dict.fromkeys(values.get("issue_ids") or []))
    if not ids:
        errors["issue_ids"] = [_l("Name at least one issue.")]
    elif len(ids) > MAX_ORDER_ISSUES:
        errors["issue_ids"] = [_l("At most %(n)s issues in one order.", n=MAX_ORDER_ISSUES)]
    if errors:
        raise Invalid(_l("Some fields are invalid."), errors=errors)
    assert org is not None and isinstance(reply_by, date)
    chosen = (select(Issue).where(Issue.id.in_(ids),
                                  Issue.org_id.in_(owners.subtree_ids(org.id)))
              .order_by(Issue.id))
    if db.session.get_bind().dialect.name == "postgresql":
        # Each issue's counters are written below: wait for another order naming it (by id,
        # so two orders never wait on each other) and read what that one wrote.
        chosen = chosen.with_for_update().execution_options(populate_existing=True)
    named = list(db.session.scalars(chosen))
    outside = sorted(set(ids) - {i.id for i in named})
    closed = [i.id for i in named if i.status not in OPEN_STATUSES]
    if outside:
        raise Invalid(_l("Some issues are not in the unit's ledger: %(ids)s.",
                         ids=", ".join(f"#{i}" for i in outside)),
                      errors={"issue_ids": [_l("Not in the unit's ledger: %(ids)s.",
                                               ids=", ".join(f"#{i}" for i in outside))]})
    if closed:
        raise Invalid(_l("Some issues are closed: %(ids)s.",
                         ids=", ".join(f"#{i}" for i in closed)),
                      errors={"issue_ids": [_l("Closed: %(ids)s.",
                                               ids=", ".join(f"#{i}" for i in closed))]},
                      reason="issue_closed")
    now = utcnow()
    issued_on = local_date_of(now)
    issuing = _issuing_org(actor, org)
    seq = _claim_number(issuing.id, issued_on.year)
    order = Order(number=order_number(issuing, issued_on.year, seq), issuing_org_id=issuing.id,
                  year=issued_on.year, seq=seq, org_id=org.id, issued_by_id=actor.id,
                  level=values["level"], reply_by=reply_by,
                  comment=(values.get("comment") or "").strip(),
                  status=OrderStatus.issued, issued_at=now, issued_on=issued_on)
    db.session.add(order)
    db.session.flush()
    db.session.add_all(OrderIssue(order_id=order.id, issue_id=i.id) for i in named)
    chase.mark_ordered(named, actor, order.number, order.comment, now)
    orders_changed.send(order=order, kind="issued", actor=actor)
    return order


def order_unit_for(actor: User, issue_ids: Sequence[int]) -> Org | None:
    """The unit an order on these issues goes to, for the page that picks rows of a report:
    the highest org below the issuer's home org (the root for an admin) whose subtree holds
    them all; None when they have no such org in common (the page then asks)."""
    orgs = set(db.session.scalars(select(Issue.org_id).where(
        Issue.id.in_(list(issue_ids)[:MAX_ORDER_ISSUES]),
        owners.scope_clause(actor, Issue.org_id))))
    if not orgs:
        return None
    paths = owners.ancestors_of(orgs)
    common = set.intersection(*(paths[o] for o in orgs))
    above = owners.ancestors_of({actor.org_id})[actor.org_id] if actor.org_id else set()
    candidates = [o for o in common if o not in above and owners.in_scope(actor, o)]
    if not candidates:
        return None
    found = db.session.scalars(select(Org).where(Org.id.in_(candidates))
                               .order_by(Org.depth, Org.id).limit(1)).first()
    return found


def order_candidates(org_id: int, limit: int) -> tuple[list[Issue], int]:
    """The open issues of ``org_id``'s subtree an order may name, most overdue first (at most
    ``limit``), and how many there are in all."""
    where = (Issue.org_id.in_(owners.subtree_ids(org_id)), Issue.status.in_(OPEN_STATUSES))
    count = db.session.scalar(select(func.count()).select_from(Issue).where(*where)) or 0
    rows = list(db.session.scalars(select(Issue).where(*where)
                                   .order_by(Issue.due_on, Issue.id).limit(limit)))
    return rows, int(count)


# --- orders: their life -----------------------------------------------------------------


def _require_status(order: Order, *allowed: str) -> None:
    if order.status not in allowed:
        raise Conflict(_l("The order's current status does not allow this."),
                       reason="invalid_transition")


def acknowledge(actor: User, order: Order) -> Order:
    """Sign for an order (签收): its org's registrars and supervisors, or an admin."""
    if not may_answer(actor, order):
        raise Forbidden(_l("Only the addressed unit's registrars and supervisors sign for "
                           "and answer an order."), reason="not_addressee")
    _require_status(order, OrderStatus.issued)
    order.status = OrderStatus.acknowledged
    order.acknowledged_by_id, order.acknowledged_at = actor.id, utcnow()
    db.session.flush()
    orders_changed.send(order=order, kind="acknowledged", actor=actor)
    return order


def reply(actor: User, order: Order, text: str) -> Order:
    """Answer an order (反馈) with a text: after signing for it (or after it was returned)."""
    if not may_answer(actor, order):
        raise Forbidden(_l("Only the addressed unit's registrars and supervisors sign for "
                           "and answer an order."), reason="not_addressee")
    text = (text or "").strip()
    if not text:
        raise Invalid(_l("Say what was done."), errors={"text": [_l("Required.")]})
    _require_status(order, OrderStatus.acknowledged)
    order.status = OrderStatus.replied
    order.reply, order.replied_by_id, order.replied_at = text, actor.id, utcnow()
    db.session.flush()
    orders_changed.send(order=order, kind="replied", actor=actor)
    return order


def return_order(actor: User, order: Order, comment: str) -> Order:
    """Send a reply back as not enough: the order is acknowledged again, awaiting a reply."""
    if not may_decide(actor, order):
        raise Forbidden(_l("Only the order's issuer or an admin closes or returns it."),
                        reason="not_issuer")
    comment = (comment or "").strip()
    if not comment:
        raise Invalid(_l("Say why the reply is not enough."),
                      errors={"comment": [_l("Required.")]})
    _require_status(order, OrderStatus.replied)
    order.status = OrderStatus.acknowledged
    order.close_comment = comment
    db.session.flush()
    orders_changed.send(order=order, kind="returned", actor=actor)
    return order


def close_order(actor: User, order: Order, comment: str = "") -> Order:
    """Close an order (its issuer or an admin); its issues count one open order less."""
    if not may_decide(actor, order):
        raise Forbidden(_l("Only the order's issuer or an admin closes or returns it."),
                        reason="not_issuer")
    _require_status(order, *OPEN_ORDER_STATUSES)
    now = utcnow()
    order.status = OrderStatus.closed
    order.closed_by_id, order.closed_at = actor.id, now
    order.close_comment = (comment or "").strip()
    db.session.flush()
    chosen = select(Issue).where(Issue.id.in_(order_issue_ids(order))).order_by(Issue.id)
    if db.session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update().execution_options(populate_existing=True)
    named = list(db.session.scalars(chosen))
    # The latest other open order naming each issue keeps it chased from its day of issue.
    others = dict(db.session.execute(
        select(OrderIssue.issue_id, func.max(Order.issued_on))
        .join(Order, Order.id == OrderIssue.order_id)
        .where(OrderIssue.issue_id.in_([i.id for i in named]),
               Order.status.in_(OPEN_ORDER_STATUSES), Order.id != order.id)
        .group_by(OrderIssue.issue_id)).all())
    chase.mark_order_closed([(i, others.get(i.id)) for i in named], actor, order.number, now)
    orders_changed.send(order=order, kind="closed", actor=actor)
    return order


def is_overdue(order: Order, as_of: date, days: WorkingDays | None = None,
               status: str | None = None) -> str | None:
    """The step at which ``order`` is overdue on ``as_of``: ``acknowledge`` (not signed for
    within 2 working days of issue), ``reply`` (not answered by reply_by), or None.
    ``status`` is the order's status on that day (default: its status now)."""
    status = status or order.status
    # The later step first: a pass that missed days tells the most urgent step only.
    if status in (OrderStatus.issued, OrderStatus.acknowledged) and as_of > order.reply_by:
        return "reply"
    if status == OrderStatus.issued:
        deadline = (days or WorkingDays()).add_working_days(order.issued_on, ACK_WORKING_DAYS)
        if as_of > deadline:
            return "acknowledge"
    return None


def status_on(order: Order, moment: datetime) -> str | None:
    """The status ``order`` had just before ``moment`` (None: not issued yet), from the times
    of its steps.  A returned order keeps only its last answer's time: it counts as answered
    from then on, unless it is awaiting a new answer now."""
    if order.issued_at >= moment:
        return None
    if order.closed_at is not None and order.closed_at < moment:
        return OrderStatus.closed
    if order.replied_at is not None and order.replied_at < moment and \
            order.status != OrderStatus.acknowledged:
        return OrderStatus.replied
    if order.acknowledged_at is not None and order.acknowledged_at < moment:
        return OrderStatus.acknowledged
    return OrderStatus.issued


def report_figures(sender: Any = None, *, campaign_id: int, as_of: date, org_id: int,
                   **_: Any) -> SupervisionFigures:
    """The supervision figures of the 整改情况报告 (``rectification.supervision_figures``):
    the unit's findings of the campaign urged by the end of ``as_of`` (and the urges), and the
    orders addressed to its subtree that name any of them: received, answered, overdue."""
    moment = end_of_day(as_of)
    subtree = owners.subtree_ids(org_id)
    urged, urges = db.session.execute(
        select(func.count(func.distinct(Urge.issue_id)), func.count(Urge.id))
        .join(Issue, Issue.id == Urge.issue_id)
        .where(Issue.campaign_id == campaign_id, Issue.org_id.in_(subtree),
               Urge.created_at < moment)).one()
    on_campaign = select(OrderIssue.order_id).join(Issue, Issue.id == OrderIssue.issue_id) \
        .where(Issue.campaign_id == campaign_id)
    received = (select(Order).where(Order.org_id.in_(subtree), Order.issued_at < moment,
                                    Order.id.in_(on_campaign))
                .order_by(Order.id).execution_options(yield_per=500))
    days = WorkingDays()
    orders = answered = overdue = 0
    for order in db.session.scalars(received):
        status = status_on(order, moment)
        orders += 1
        if status in (OrderStatus.replied, OrderStatus.closed) and order.replied_at is not None:
            answered += 1
        if is_overdue(order, as_of, days, status) is not None:
            overdue += 1
    return SupervisionFigures(urged=int(urged), urges=int(urges), orders=orders,
                              orders_answered=answered, orders_overdue=overdue)


#: Working days an addressed unit has to sign for an order.
ACK_WORKING_DAYS = 2


def list_orders(actor: User, filters: dict[str, Any]) -> Select[Any]:
    """The orders ``actor`` may read, newest first; filters: status, org_id (subtree),
    direction (``received``: addressed to their home org's subtree; ``issued``: by them or
    their home org)."""
    stmt = select(Order).where(readable_orders(actor))
    if filters.get("status"):
        stmt = stmt.where(Order.status == filters["status"])
    if filters.get("org_id") is not None:
        stmt = stmt.where(Order.org_id.in_(owners.subtree_ids(filters["org_id"])))
    direction = filters.get("direction")
    if direction == "received" and actor.org_id is not None:
        stmt = stmt.where(Order.org_id.in_(owners.subtree_ids(actor.org_id)))
    elif direction == "issued":
        stmt = stmt.where(or_(Order.issued_by_id == actor.id,
                              Order.issuing_org_id == (actor.org_id or -1)))
    return stmt.order_by(Order.issued_at.desc(), Order.id.desc())


def awaiting(actor: User) -> dict[str, list[Order]]:
    """The orders ``actor``'s home org must act on: 待签收 (to sign for) and 待反馈 (to
    answer), oldest first (for the homes)."""
    if actor.role not in (Role.registrar, Role.supervisor) or actor.org_id is None:
        return {"acknowledge": [], "reply": []}
    rows = list(db.session.scalars(
        select(Order).where(Order.org_id == actor.org_id,
                            Order.status.in_((OrderStatus.issued,
                                              OrderStatus.acknowledged)))
        .order_by(Order.reply_by, Order.id)))
    return {"acknowledge": [o for o in rows if o.status == OrderStatus.issued],
            "reply": [o for o in rows if o.status == OrderStatus.acknowledged]}


def overdue_pass(as_of: date) -> list[tuple[Order, str]]:
    """The daily pass: tell each issuer, exactly once per order and step, of the orders not
    signed for within 2 working days or not answered by reply_by (claimed under the alerts'
    primary key, so two passes at once tell nobody twice)."""
    days = WorkingDays()
    told = []
    open_orders = db.session.scalars(
        select(Order).where(Order.status.in_((OrderStatus.issued,
                                              OrderStatus.acknowledged)),
                            Order.issued_on < as_of).order_by(Order.id))
    dialect = db.session.get_bind().dialect.name
    for order in open_orders:
        step = is_overdue(order, as_of, days)
        if step is None:
            continue
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(ALERTS)
        # RETURNING names the row when this pass inserted it (psycopg reports no rowcount).
        claimed = db.session.execute(ins.values(order_id=order.id, step=step,
                                                created_at=utcnow())
                                     .on_conflict_do_nothing()
                                     .returning(ALERTS.c.order_id)).scalar()
        if claimed is not None:
            orders_changed.send(order=order, kind="overdue", actor=None, step=step)
            told.append((order, step))
    return told


def on_days_passed(sender: Any = None, *, as_of: date, **_: Any) -> int:
    """Listener of the reminder pass's days (``notify.service.days_passed``): the orders'
    overdue pass for ``as_of``, in the pass's transaction.  Returns no webhook count."""
    overdue_pass(as_of)
    return 0
