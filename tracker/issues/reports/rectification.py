"""The 整改情况报告: the report a unit hands in on a campaign, as of a day, as a Word file.

Its structure is the seed report's (SPEC §6): the title, the addressee, 一、基本情况 (one
paragraph of figures), 二、存在的问题及整改情况 (per category a heading, per finding a numbered
paragraph), 三、尚未完成的整改事项 (a table), 四、下步工作计划 (a marked placeholder the office
writes), the signature block and the 汇总表 as an appendix on a landscape page.  The layout is
``tracker.documents``'s.

The figures are the summary's and the overdue report's of the same day, computed by calling
those reports (``service.summary_units``, ``service.overdue_rows``), never by a second
aggregation, so that the paper and the tables always agree.  Urging and supervision orders
belong to the supervision package, which the ledger never imports: the report asks for their
figures through ``supervision_figures`` (a signal supervision answers), and says them when
an answer comes.

Memory stays bounded for any scope: at most ``FULL_CAP`` findings are written out in full
(when a scope holds more, only open ones are, and the document says how many closed ones it
leaves out), and the table of open items lists at most ``TABLE_CAP`` rows, most overdue first,
saying how many more there are.  Both limits are stated in the document itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from blinker import Namespace
from flask import Response
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import documents
from tracker.errors import NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import sheets
from tracker.issues.models import Campaign, Category, Issue, Status
from tracker.issues.reports import service as reports
from tracker.owners import service as owners
from tracker.owners.models import Org, User
from tracker.timeutil import format_date
from tracker.webapi import attachment

_signals = Namespace()
#: Asked, with ``campaign_id``, ``as_of`` and ``org_id``, for the figures of supervision by
#: hand of the unit's subtree on the day: a receiver returns a ``SupervisionFigures``
#: (supervision connects one; without it the report leaves the sentence out).
supervision_figures = _signals.signal("rectification-supervision-figures")


@dataclass
class SupervisionFigures:
    """一、基本情况's supervision figures of the day: findings urged (and urges), and the
    supervision orders the unit received, answered and let go overdue."""

    urged: int
    urges: int
    orders: int
    orders_answered: int
    orders_overdue: int


#: Findings written out in full (problem, cause, measures, window, state) at most; past it
#: only open findings are, up to this many, and closed ones are counted per category.
FULL_CAP = 300
#: Rows of the open-items table at most (most overdue first).
TABLE_CAP = 1000
#: The languages a report is written in (a GB/T 9704 paper is Chinese or Tibetan).
LANGUAGES = ("zh_Hans", "bo")
#: Words a campaign's title may end with that the report's title adds again.
_TITLE_TAIL = re.compile(r"(自查整改|整改工作|自查工作|整改|自查)$")


def _numbers(lang: str) -> tuple[list[str], list[str]]:
    """Level-one and level-two heading numbers: 一、 and （一） in Chinese, Tibetan digits in
    Tibetan (figures stay in the Arabic digits the dates are written in, in both)."""
    if lang == "bo":
        tib = [str(n).translate(str.maketrans("0123456789", "༠༡༢༣༤༥༦༧༨༩"))
               for n in range(1, 51)]
        return [f"{n} " for n in tib], [f"({n}) " for n in tib]
    first = "一二三四五六七八九十"
    chinese = [*first, *(f"十{c}" for c in first[:9]), "二十"]
    return [f"{c}、" for c in chinese], [f"（{c}）" for c in chinese]


def _tsheg(name: str, lang: str) -> str:
    """A Tibetan name as it stands before a particle: ended by a tsheg (རྫོང་ནས་)."""
    if lang == "bo" and name and "\u0f40" <= name[-1] <= "\u0fbc":
        return name + "་"
    return name


@dataclass
class Figures:
    """一、基本情况's figures: the summary's and the overdue report's of the day."""

    total: int
    closed: int
    closed_late: int
    extended: int
    overdue: int
    completion_rate: float
    #: (category name, findings) in the summary's order, categories with findings only.
    by_category: list[tuple[str, int]]
    #: Category name -> its closed findings.
    closed_by_category: dict[str, int]
    #: Urges and orders of the day, when supervision answers ``supervision_figures``.
    supervision: SupervisionFigures | None = None

    @property
    def closed_on_time(self) -> int:
        """Closed by their deadline (the summary's closed less its closed late)."""
        return self.closed - self.closed_late

    @property
    def open(self) -> int:
        """Not closed on the day."""
        return self.total - self.closed


def report_org(user: User, org_id: int | None) -> Org:
    """The unit reported on: ``org_id`` (in the caller's scope), else the home org, else the
    one root; 404 otherwise."""
    reports.require_report_reader(user)
    if org_id is None:
        org_id = user.org_id
        if org_id is None:
            roots = db.session.scalars(select(Org.id).where(Org.parent_id.is_(None))
                                       .limit(2)).all()
            org_id = roots[0] if len(roots) == 1 else None
        if org_id is None:
            raise Invalid(_l("Choose the unit the report is about."),
                          errors={"org_id": [_l("Required.")]})
    org = db.session.get(Org, org_id)
    if org is None or not owners.in_scope(user, org_id):
        raise NotFound(_l("No such org in your scope."), errors={"org_id": [_l("No such org.")]})
    return org


def report_language(lang: str | None, reader: str) -> str:
    """The report's language: ``lang`` when given (zh_Hans or bo, else 422), else Tibetan to a
    reader of Tibetan and Chinese to everyone else."""
    if lang is None:
        return "bo" if reader == "bo" else "zh_Hans"
    if lang not in LANGUAGES:
        raise Invalid(_l("A report is written in Chinese (zh_Hans) or Tibetan (bo)."),
                      errors={"lang": [_l("Must be zh_Hans or bo.")]})
    return lang


def figures(user: User, campaign_id: int, as_of: date, org_id: int) -> Figures:
    """The report's figures, from the summary and the overdue report of ``as_of``."""
    units = reports.summary_units(user, campaign_id, as_of, org_id, include_empty=True)
    sums = {f: sum(u.subtotal[f] for u in units)
            for f in ("total", "closed", "closed_late", "extended", "overdue")}
    per_category: dict[str, int] = {}
    closed: dict[str, int] = {}
    for unit in units:
        for line in unit.lines:
            name = line["category_name"]
            per_category[name] = per_category.get(name, 0) + line["total"]
            closed[name] = closed.get(name, 0) + line["closed"]
    # The overdue figure is the overdue report's own count of the day (it equals the
    # summary's; the report reads it where a reader of the overdue list would).
    _rows, meta = reports.overdue_rows(user, as_of, org_id=org_id, campaign_id=campaign_id,
                                       page_size=1)
    total = sums["total"]
    answers = [found for _receiver, found in supervision_figures.send(
        campaign_id=campaign_id, as_of=as_of, org_id=org_id) if found is not None]
    return Figures(total=total, closed=sums["closed"], closed_late=sums["closed_late"],
                   extended=sums["extended"], overdue=meta["total"],
                   completion_rate=round(sums["closed"] / total, 4) if total else 0.0,
                   by_category=[(name, n) for name, n in per_category.items() if n],
                   closed_by_category=closed,
                   supervision=answers[0] if answers else None)


# --- the findings of the day ---------------------------------------------------------------


def _findings(campaign_id: int, as_of: date, org_id: int, *, open_only: bool,
              limit: int, overdue_first: bool = False) -> Iterator[Any]:
    """The findings of the unit's subtree as they stood on ``as_of``, by category (or most
    overdue first), at most ``limit``, read in batches."""
    ledger = reports.ledger_on(as_of)
    src = ledger.rows
    category = Category.local_name_column().label("category_name")
    stmt = (
        select(ledger.issue_id.label("id"), Issue.title, Issue.description, Issue.cause,
               Issue.measures, Issue.starts_on, Issue.original_due_on, src.status, src.due_on,
               src.closed_on, src.extension_count, src.category_id, category,
               Org.local_name_column().label("unit"), User.display_name.label("owner_name"))
        .select_from(src)
    )
    if ledger.past:
        stmt = stmt.join(Issue, Issue.id == src.issue_id)
    stmt = (stmt.join(Category, Category.id == src.category_id)
            .join(Org, Org.id == src.org_id)
            .join(User, User.id == src.owner_id)
            .where(src.campaign_id == campaign_id, reports._in_subtree(org_id, src.org_id),
                   *ledger.where))
    if open_only:
        stmt = stmt.where(src.status != Status.closed)
    order = ((src.due_on, ledger.issue_id) if overdue_first
             else (Category.code, Category.id, ledger.issue_id))
    stmt = stmt.order_by(*order).limit(limit).execution_options(yield_per=200)
    for batch in db.session.execute(stmt).partitions():
        yield from batch


#: The fixed phrases of a finding's paragraph (templates, formatted by ``_Words``).
WINDOW = _l("%(starts)s to %(due)s")
SENTENCE = _l("%(sentence)s.")
CLOSED_ON = _l("Closed on %(date)s.")
OVERDUE_BY = _l("Overdue by %(days)s days")
DAYS_LEFT = _l("Being rectified, %(days)s days left")
EXTENDED_TO = _l("; extended to %(date)s")
ORIGINALLY = _l(" (originally due %(date)s)")
CAUSE, MEASURES = _l("Cause: "), _l("Measures: ")
DEADLINE, PROGRESS = _l("Deadline: "), _l("Progress: ")


class _Words:
    """The phrases and dates of the findings' paragraphs in the document's language, each
    translated or formatted once per document: Flask-Babel looks the locale up on every call,
    which made a third of a 300-finding report's time."""

    def __init__(self) -> None:
        self._templates: dict[int, str] = {}
        self._dates: dict[date, str] = {}

    def __call__(self, phrase: Any, **values: Any) -> str:
        """``phrase`` (a lazy template) translated, then formatted with ``values``."""
        template = self._templates.get(id(phrase))
        if template is None:
            template = self._templates[id(phrase)] = str(phrase)
        return template % values if values else template

    def date(self, day: date) -> str:
        """``day`` as the reader writes a date."""
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = format_date(day)
        return text


def _state(row: Any, as_of: date, words: _Words) -> str:
    """整改情况: 已销号 on D; 整改中, 剩余 N 天; 已逾期 N 天; and 已延期至 D where extended."""
    if row.status == Status.closed:
        return words(CLOSED_ON, date=words.date(row.closed_on))
    if as_of > row.due_on:
        state = words(OVERDUE_BY, days=(as_of - row.due_on).days)
    else:
        state = words(DAYS_LEFT, days=(row.due_on - as_of).days)
    if row.extension_count:
        state += words(EXTENDED_TO, date=words.date(row.due_on))
    return words(SENTENCE, sentence=state)


def _finding_parts(row: Any, as_of: date, words: _Words) -> list[tuple[str, str]]:
    window = words(WINDOW, starts=words.date(row.starts_on), due=words.date(row.due_on))
    if row.original_due_on != row.due_on:
        window += words(ORIGINALLY, date=words.date(row.original_due_on))
    parts = [("", words(SENTENCE, sentence=row.title))]
    if row.description:
        parts.append(("", row.description))
    parts += [
        (words(CAUSE), row.cause or "—"),
        (words(MEASURES), row.measures or "—"),
        (words(DEADLINE), words(SENTENCE, sentence=window)),
        (words(PROGRESS), _state(row, as_of, words)),
    ]
    return parts


# --- the document --------------------------------------------------------------------------


def _title(org: Org, campaign: Campaign, lang: str) -> str:
    title = (getattr(campaign, "title_bo", None) if lang == "bo" else None) or campaign.title
    if lang != "bo":
        title = _TITLE_TAIL.sub("", title) or title
    return str(_l("%(org)s on %(campaign)s: report on self-inspection and rectification",
                  org=_tsheg(org.local_name, lang), campaign=title))


def _basic_paragraph(fig: Figures, campaign: Campaign, as_of: date, lang: str) -> str:
    by_category = str(_l("; ")).join(
        str(_l("%(category)s (%(n)s)", category=name, n=n)) for name, n in fig.by_category)
    reference = f"（{campaign.reference}）" if campaign.reference else ""
    text = str(_l("As of %(date)s, the self-inspection %(campaign)s%(reference)s found "
                  "%(total)s problems",
                  date=format_date(as_of), campaign=campaign.title, reference=reference,
                  total=fig.total))
    if by_category:
        text += str(_l(", of which %(list)s", list=by_category))
    text += str(_l(". %(closed)s have been rectified and closed, a completion rate of "
                   "%(rate)s, %(on_time)s of them by their deadline; %(extended)s were "
                   "given more time; %(overdue)s are overdue and not rectified.",
                   closed=fig.closed, rate=f"{fig.completion_rate * 100:.1f}%",
                   on_time=fig.closed_on_time, extended=fig.extended,
                   overdue=fig.overdue))
    chased = fig.supervision
    if chased is not None:
        text += str(_l(" %(urged)s findings were urged (%(urges)s urges in all); the unit "
                       "received %(orders)s supervision orders, answered %(answered)s of them, "
                       "and %(overdue)s are overdue (not signed for or not answered in time).",
                       urged=chased.urged, urges=chased.urges, orders=chased.orders,
                       answered=chased.orders_answered, overdue=chased.orders_overdue))
    return text


def _findings_section(doc: documents.Document, fig: Figures, campaign_id: int, as_of: date,
                      org_id: int, level2: list[str], lang: str) -> None:
    """二、: per category a heading, per finding a numbered paragraph (bounded, see above)."""
    words = _Words()
    in_full = fig.total <= FULL_CAP
    if not in_full:
        doc.paragraph(str(_l(
            "This unit has %(total)s findings: this part sets out the open ones (at most "
            "%(cap)s, by category); the %(closed)s closed findings are counted under each "
            "category and not set out one by one (see the ledger).",
            total=fig.total, cap=FULL_CAP,
            closed=fig.closed)))
    # A big scope counts its closed findings per category instead of setting them out; a
    # category whose findings are all closed then has its heading and that count alone.
    closed_by_category = {} if in_full else fig.closed_by_category
    pending = [name for name, _n in fig.by_category]
    heading = 0

    def open_category(name: str) -> None:
        nonlocal heading
        doc.heading2(level2[min(heading, len(level2) - 1)] + name)
        heading += 1
        if closed_by_category.get(name):
            doc.paragraph(str(_l("Closed in this category and not set out here: %(n)s.",
                                 n=closed_by_category[name])))

    written = 0
    current: Any = None
    number = 0
    for row in _findings(campaign_id, as_of, org_id, open_only=not in_full, limit=FULL_CAP):
        if row.category_id != current:
            current = row.category_id
            while pending and pending[0] != row.category_name and not in_full:
                open_category(pending.pop(0))
            if pending and pending[0] == row.category_name:
                pending.pop(0)
            open_category(row.category_name)
            number = 0
        number += 1
        written += 1
        doc.numbered(f"{number}. ", _finding_parts(row, as_of, words))
    if not in_full:
        # The categories after the last finding set out (all closed, or past the cap): a
        # heading each and their closed count, cheap whatever the scope.
        for name in pending:
            open_category(name)
    if written == 0:
        doc.paragraph(str(_l("No finding is registered for this unit on this campaign.")
                          if fig.total == 0 else
                          _l("Every finding of this unit has been rectified and closed.")))
    elif not in_full and fig.open > written:
        doc.paragraph(str(_l("A further %(n)s open findings are listed in part three.",
                             n=fig.open - written)))


def _open_table(doc: documents.Document, fig: Figures, campaign_id: int, as_of: date,
                org_id: int, lang: str) -> None:
    """三、: the open findings of the day, most overdue first, at most ``TABLE_CAP``."""
    words = _Words()
    if fig.open == 0:
        doc.paragraph(str(_l("None: every finding has been rectified and closed.")))
        return
    header = [str(_l("No.")), str(_l("Unit")), str(_l("Problem")), str(_l("Due on")),
              str(_l("Days overdue")), str(_l("Responsible officer"))]
    rows = (
        [n, row.unit, row.title, words.date(row.due_on),
         max(0, (as_of - row.due_on).days) if as_of > row.due_on else "—",
         row.owner_name]
        for n, row in enumerate(_findings(campaign_id, as_of, org_id, open_only=True,
                                          limit=TABLE_CAP, overdue_first=True), start=1)
    )
    doc.table(header, rows, widths=(11, 30, 56, 24, 15, 20))
    if fig.open > TABLE_CAP:
        doc.paragraph(str(_l(
            "The table lists the %(cap)s most overdue of %(open)s open findings; the overdue "
            "list and the ledger export give them all.",
            cap=TABLE_CAP, open=fig.open)))


def _appendix(doc: documents.Document, user: User, campaign: Campaign, as_of: date,
              org_id: int, lang: str) -> None:
    """附件: the 汇总表 (the summary of the same day) on a landscape page."""
    doc.landscape_section()
    doc.heading1(str(_l("Appendix")), indent=False)
    doc.title(reports.summary_title(campaign, as_of, db.session.get(Org, org_id)))
    doc.paragraph(reports.as_of_line(as_of), indent=False, align="right")
    units = reports.summary_units(user, campaign.id, as_of, org_id)
    subtotal = str(_l("Subtotal"))

    def lines() -> Iterator[list[Any]]:
        for unit in units:
            for n, r in enumerate([*unit.lines, None]):
                line = r if r is not None else unit.subtotal
                yield [unit.number if n == 0 else "",
                       unit.name if n == 0 else "",
                       r["category_name"] if r is not None else subtotal,
                       *[line[f] for f in
                         ("total", "closed", "closed_late", "extended", "overdue")],
                       f"{line['completion_rate'] * 100:.1f}%"]
        grand = {f: sum(u.subtotal[f] for u in units)
                 for f in ("total", "closed", "closed_late", "extended", "overdue")}
        rate = grand["closed"] / grand["total"] if grand["total"] else 0.0
        yield ["", str(_l("Total")), "", *[grand[f] for f in grand],
               f"{rate * 100:.1f}%"]

    doc.table(sheets.headings(reports.SUMMARY_COLUMNS), lines(),
              widths=(10, 40, 65, 18, 18, 18, 18, 18, 20), size=documents.SMALL_TABLE_SIZE)


def rectification_docx(user: User, campaign_id: int | None, as_of: date,
                       org_id: int | None = None, lang: str = "zh_Hans") -> IO[bytes]:
    """The 整改情况报告 of ``org_id`` (default: the caller's home org) on a campaign as of a
    day, in Chinese or Tibetan, as a spooled .docx file."""
    org = report_org(user, org_id)
    if campaign_id is None:
        raise Invalid(_l("Choose the campaign the report is about."),
                      errors={"campaign_id": [_l("Required.")]})
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid(_l("No such campaign."), errors={"campaign_id": [_l("No such campaign.")]})
    with force_locale(lang):
        fig = figures(user, campaign.id, as_of, org.id)
        doc = documents.Document("bo" if lang == "bo" else "zh")
        level1, level2 = _numbers(doc.lang)
        doc.title(_title(org, campaign, doc.lang))
        parent = db.session.get(Org, org.parent_id) if org.parent_id is not None else None
        if parent is not None:
            doc.addressee(str(_l("%(org)s:", org=_tsheg(parent.local_name, doc.lang))))
        doc.heading1(level1[0] + str(_l("Overview")))
        doc.paragraph(_basic_paragraph(fig, campaign, as_of, doc.lang))
        doc.heading1(level1[1] + str(_l("Problems found and their rectification")))
        _findings_section(doc, fig, campaign.id, as_of, org.id, level2, doc.lang)
        doc.heading1(level1[2] + str(_l("Rectification not yet completed")))
        _open_table(doc, fig, campaign.id, as_of, org.id, doc.lang)
        doc.heading1(level1[3] + str(_l("Plans for the next stage")))
        doc.placeholder(str(_l("For the office to write: the work planned for the next "
                               "stage, with who does what by when.")))
        doc.paragraph()
        doc.paragraph(str(_l("Appendix: Summary table")))
        doc.signature(org.local_name, format_date(as_of))
        _appendix(doc, user, campaign, as_of, org.id, doc.lang)
        return doc.save()



def send_rectification(user: User, campaign_id: int | None, as_of: date,
                       org_id: int | None = None, lang: str | None = None,
                       reader: str = "zh") -> Response:
    """The report as a download named like every other (``整改情况报告_玛多县_2018-12-01.docx``),
    for the API and the pages alike."""
    language = report_language(lang, reader)
    body = rectification_docx(user, campaign_id, as_of, org_id, language)
    unit = report_org(user, org_id)
    with force_locale(language):
        name, fallback = sheets.download_name("rectification", unit, as_of, "docx")
    return attachment(body, name, documents.DOCX_MIMETYPE, fallback=fallback)
