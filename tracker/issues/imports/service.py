"""Importing findings from a spreadsheet (xlsx or csv): all rows or none.

Every row goes through the registration rules (``issues.service.checked_registrations``), so
the import follows exactly the rules of the form and the API.  Rows are streamed from the file
and checked in a transaction that only reads; the right ones are written afterwards, all
together, in one short transaction of bulk statements (``issues.service.write_registrations``,
which does for the batch what the session's listeners do for one registration); orgs,
categories and owners are looked up once per distinct value, not once per row.

Longer than our ~500 lines: one pipeline (read the sheet, map its headings, check and look up
each row, register all or none) whose steps share the row's context; the next cut separates
reading the sheet from checking its rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from tracker import database, spreadsheets
from tracker import text as clean_text
from tracker.errors import DomainError, NotFound, rendered
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues import sheets
from tracker.issues.models import Campaign, Category, Issue
from tracker.issues.registration import RegistrationMemo
from tracker.owners import service as owners
from tracker.owners.models import Org, User
from tracker.spreadsheets import RowError, read_rows
from tracker.spreadsheets import cell_text as _cell_text
from tracker.spreadsheets import normalise_header as _normalise_header
from tracker.timeutil import format_cn_date, parse_date, parse_window, reader_language, today

#: Canonical column -> the headers accepted for it besides its heading in each language
#: (``sheets.COLUMN_LABELS``), compared after normalising.
HEADERS: dict[str, tuple[str, ...]] = {
    "no": ("序号", "no", "no.", "#"),
    "org": ("单位", "责任单位", "org", "unit"),
    "category": ("问题类别", "类别", "category"),
    "title": ("问题", "title", "problem"),
    "description": ("问题描述", "description"),
    "cause": ("原因分析", "cause"),
    "measures": ("整改措施", "measures"),
    "owner": ("责任人", "owner"),
    "window": ("整改时限", "window"),
    "starts_on": ("开始日期", "starts_on", "start"),
    "due_on": ("完成时限", "完成日期", "due_on", "due"),
    "registered_on": ("登记日期", "registered_on", "registered"),
    # On a campaign counted in working days, instead of 完成时限.
    "due_in_working_days": ("完成工作日数", "due_in_working_days", "working_days"),
}

#: The template's columns, in order (headings in the reader's language).
TEMPLATE_COLUMNS = ("no", "org", "category", "title", "description", "cause", "measures",
                    "owner", "window", "registered_on")
#: Columns a row must fill (the window, or 开始日期 and 完成时限, besides).
REQUIRED_COLUMNS = ("org", "category", "title", "owner", "window")
#: Rows the template's dropdowns cover (the data rows below the header).
TEMPLATE_ROWS = 10_000

#: The service's field names -> the canonical column that holds them.
FIELD_COLUMN = {
    "org_id": "org", "category_id": "category", "title": "title", "description": "description",
    "cause": "cause", "measures": "measures", "owner_id": "owner", "starts_on": "starts_on",
    "due_on": "due_on", "campaign_id": "title", "registered_on": "registered_on",
    "due_in_working_days": "due_in_working_days",
}

TITLE_MAX = 300  # issues.title is String(300); PostgreSQL refuses longer ones outright
ACTOR_LABEL_MAX = 300
#: Rows written at a time (two statements a batch), so that memory stays bounded.
BATCH = 500



class ImportFailed(Invalid):
    """Some rows of an import are wrong: nothing was saved (422, every error listed)."""

    reason = "import_failed"

    def __init__(self, report: ImportReport) -> None:
        # In the sheet's order, whatever found them: a row refused by the registration rules
        # is found after the rows of its chunk that did not parse.
        report.errors.sort(key=lambda error: error.row)
        super().__init__(
            _l("%(errors)s error(s) in %(rows)s row(s); nothing was imported.",
               errors=len(report.errors), rows=report.rows),
            errors={"rows": [e.as_dict() for e in report.errors]},
        )
        self.report = report


@dataclass
class ImportReport:
    """What an import did (or would have done): counts, skipped rows and errors."""

    filename: str
    rows: int = 0
    created: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: The ids of the issues the import registered, in the sheet's order.
    created_ids: list[int] = field(default_factory=list)
    #: Checked only: ``created`` says what the import would register; nothing was written.
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "filename": self.filename,
            "rows": self.rows,
            "created": self.created,
            "skipped": rendered(self.skipped),
            "errors": [e.as_dict() for e in self.errors],
            "dry_run": self.dry_run,
        }


# --- reading files -------------------------------------------------------------------------


@cache
def header_lookup() -> dict[str, str]:
    """Normalised header -> canonical column: the aliases of ``HEADERS`` and each column's
    heading in every language (a template downloaded in Tibetan or English imports)."""
    lookup = {_normalise_header(alias): key for key, aliases in HEADERS.items()
              for alias in aliases}
    for key in HEADERS:
        for heading in sheets.in_every_language(sheets.COLUMN_LABELS[key]):
            lookup.setdefault(_normalise_header(heading), key)
    return lookup


@cache
def example_marks() -> frozenset[str]:
    """What the 序号 cell of the template's example row holds, in every language."""
    return frozenset(_normalise_header(m) for m in sheets.in_every_language(EXAMPLE_MARK))


#: The 序号 of the template's example row: a row marked so is never imported.
EXAMPLE_MARK = _l("Example")


# --- lookups -------------------------------------------------------------------------------


class _Lookups:
    """Orgs, categories and owners by code/name, each distinct value queried once."""

    def __init__(self) -> None:
        self.categories: dict[str, list[int]] = {}
        for cat in db.session.scalars(select(Category)):
            self.categories.setdefault(cat.code.strip().lower(), []).append(cat.id)
            self.categories.setdefault(_squash(cat.name), []).append(cat.id)
            if cat.name_bo and _squash(cat.name_bo) != _squash(cat.name):
                self.categories.setdefault(_squash(cat.name_bo), []).append(cat.id)
        self._orgs: dict[str, Org | Any] = {}
        self._owners: dict[str, User | Any] = {}

    def category(self, text: str) -> int:
        ids = self.categories.get(text.strip().lower()) or self.categories.get(_squash(text))
        if not ids:
            raise ValueError(_l("No category with code or name '%(name)s'.", name=text))
        return ids[0]

    def org(self, text: str) -> Org:
        key = text.strip()
        if key not in self._orgs:
            found = list(db.session.scalars(
                select(Org).where(or_(Org.code == key, Org.name == key, Org.name_bo == key))
                .limit(5)
            ))
            by_code = [o for o in found if o.code == key]
            if by_code:
                self._orgs[key] = by_code[0]
            elif len(found) == 1:
                self._orgs[key] = found[0]
            elif found:
                self._orgs[key] = _l("Several orgs are named '%(name)s': use the org's code.",
                                     name=key)
            else:
                self._orgs[key] = _l("No org with code or name '%(name)s'.", name=key)
        hit = self._orgs[key]
        if not isinstance(hit, Org):
            raise ValueError(hit)
        return hit

    def owner(self, text: str) -> User:
        key = text.strip()
        if key not in self._owners:
            found = list(db.session.scalars(
                select(User).where(or_(User.username == key, User.display_name == key)).limit(5)
            ))
            by_username = [u for u in found if u.username == key]
            if by_username:
                self._owners[key] = by_username[0]
            elif len(found) == 1:
                self._owners[key] = found[0]
            elif found:
                self._owners[key] = _l(
                    "Several users are called '%(name)s': write the username instead.",
                    name=key,
                )
            else:
                self._owners[key] = _l("No user with username or name '%(name)s'.",
                                       name=key)
        hit = self._owners[key]
        if not isinstance(hit, User):
            raise ValueError(hit)
        return hit


def _squash(text: str) -> str:
    """Category names compared without spaces and with ASCII/full-width punctuation alike."""
    table = str.maketrans({",": ",", "“": '"', "”": '"', "、": ",", ";": ";", ":": ":"})
    return re.sub(r"\s+", "", text).translate(table).lower()


# --- the import ----------------------------------------------------------------------------


def _map_headers(header_row: list[Any], report: ImportReport) -> tuple[dict[str, int],
                                                                       dict[str, str]]:
    """Column positions and the header text the file uses for each canonical column."""
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    for index, value in enumerate(header_row):
        key = header_lookup().get(_normalise_header(value))
        if key is None:
            continue  # extra columns (备注, 完成情况, …) are allowed and ignored
        if key in positions:
            report.errors.append(RowError(1, str(value).strip(), _l("This column appears twice.")))
            continue
        positions[key] = index
        labels[key] = str(value).strip()
    missing = [k for k in ("org", "category", "title", "owner") if k not in positions]
    if "window" not in positions and not ("starts_on" in positions and (
            "due_on" in positions or "due_in_working_days" in positions)):
        missing.append("window")
    for key in missing:
        zh, en = HEADERS[key][0], key
        if key == "window":
            message = _l("The column %(zh)s / %(en)s is missing (or 开始日期 and 完成时限).",
                         zh=zh, en=en)
        else:
            message = _l("The column %(zh)s / %(en)s is missing.", zh=zh, en=en)
        report.errors.append(RowError(1, zh, message))
    for key, (zh, *_rest) in HEADERS.items():
        labels.setdefault(key, zh)
    return positions, labels


#: Called as an import goes: (rows checked so far, the rows the file seems to hold).
Progress = Callable[[int, int], None]


def import_findings(path: str, filename: str, campaign_id: int, actor: User, *,
                    dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Register every row of the spreadsheet at ``path`` as an issue of the campaign.

    All or nothing, in two steps.  First every row is read and checked by the very rules of a
    registration, in a transaction that only reads (on SQLite it takes no write lock, so
    other users' writes go on while a big file is checked); a row registered already in the
    campaign (its org in the actor's scope, its title) or repeated in the file is skipped.
    If any row is wrong, ``ImportFailed`` lists every error and nothing is written.  Then the
    checked rows (held in memory between the steps: the file's size bounds them) are made
    into rows and written in one short transaction of bulk statements whose number does not
    grow with the rows (``_Batch.write``: a row registered meanwhile is refused, never
    doubled); the caller commits it.

    The caller's transaction is ended (committed) before the rows are read.  ``dry_run``
    checks only: the report says what would be created, nothing is written.  ``progress``
    is told the rows checked so far.  The command line acts as a system actor
    (``owners.service.system_actor``), named in the history.
    """
    require_campaign(campaign_id)
    issues.require_registrar(actor)
    report = ImportReport(filename=filename, dry_run=dry_run)
    # Reading and checking writes nothing: end the caller's transaction (which on SQLite may
    # hold the write lock since its BEGIN IMMEDIATE) and read in one that takes no lock.
    db.session.commit()
    marker = database.read_only.set(True)
    try:
        checked = _check_rows(path, campaign_id, actor, report, progress)
        # The rows to write are made here, outside the write that follows (on SQLite: before
        # its lock): columns, search tokens, events sealed into their chains.
        prepared = None
        if not (dry_run or report.errors or report.rows == 0):
            prepared = issues.prepare_registrations(actor, [v for _n, v, _w in checked.checked])
        db.session.commit()  # the reading transaction ends; nothing was written
    except BaseException:
        db.session.rollback()
        raise
    finally:
        database.read_only.reset(marker)
    if report.errors:
        raise ImportFailed(report)
    if report.rows == 0:
        raise Invalid(_l("The file has a header row but no findings."),
                      errors={"file": [_l("No rows below the header.")]})
    if prepared is not None:
        checked.write(prepared)
    report.created = report.rows - len(report.skipped)
    return report


def require_campaign(campaign_id: int) -> None:
    """404 naming the campaign when there is none with this id."""
    if db.session.get(Campaign, campaign_id) is None:
        raise NotFound(_l("No campaign with id %(id)s.", id=campaign_id),
                       errors={"campaign_id": [_l("No such campaign.")]})


def _check_rows(path: str, campaign_id: int, actor: User, report: ImportReport,
                progress: Progress | None) -> _Batch:
    """Read and check every row, writing nothing: the batch holding the rows to register;
    errors and skips go into ``report``."""
    expected = spreadsheets.estimate_rows(path, report.filename)
    rows = read_rows(path, report.filename)
    try:
        header = next(rows)
    except StopIteration:
        raise Invalid(_l("The file is empty."), errors={"file": [_l("No header row.")]}) from None
    positions, labels = _map_headers(header, report)
    if report.errors:
        raise ImportFailed(report)
    batch = _Batch(labels=labels, campaign_id=campaign_id, actor=actor, lookups=_Lookups(),
                   report=report)
    chunk: list[tuple[int, dict[str, Any]]] = []
    for row_number, cells in enumerate(rows, start=2):
        values = {key: cells[i] if i < len(cells) else None for key, i in positions.items()}
        if all(_cell_text(v) == "" for k, v in values.items() if k != "no"):
            continue  # blank lines between blocks are common in hand-kept sheets
        if _normalise_header(values.get("no")) in example_marks():
            continue  # the template's example row (序号 示例), left in by the clerk
        report.rows += 1
        chunk.append((row_number, values))
        if len(chunk) >= BATCH:
            batch.run(chunk)
            chunk.clear()
            if progress is not None:
                progress(report.rows, max(expected, report.rows))
    if chunk:
        batch.run(chunk)
    if not report.errors:
        batch.grounds = batch.memo.grounds(actor)
    if progress is not None:
        progress(report.rows, report.rows)
    return batch


@dataclass
class _Batch:
    """The state of one import across its chunks of rows."""

    labels: dict[str, str]
    campaign_id: int
    actor: User
    lookups: _Lookups
    report: ImportReport
    #: (org id, title) -> the first row that had them, to skip repeats within the file.
    seen: dict[tuple[int, str], int] = field(default_factory=dict)
    #: The registration rules' lookups (scope, lines, rows by id), shared by all the chunks.
    memo: RegistrationMemo = field(default_factory=RegistrationMemo)

    #: The rows checked and found right, to register: (row number, values as they will be
    #: registered, window used).
    checked: list[tuple[int, dict[str, Any], bool]] = field(default_factory=list)
    #: What the check rested on (``RegistrationMemo.grounds``), read as it ended.
    grounds: tuple[Any, ...] = ()

    def run(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        """Check a chunk of rows (nothing is written): the right ones are kept to register,
        the wrong ones reported with everything that is wrong with them."""
        parsed = [(n, *_parse_row(cells, self.campaign_id, self.lookups)) for n, cells in chunk]
        existing = self._registered(parsed)
        candidates: list[tuple[int, dict[str, Any], bool]] = []
        for row_number, values, errors, window_used in parsed:
            if self._skip(row_number, values, existing):
                continue
            if errors:
                # The registration rules still run on a row with errors (its wrong fields
                # blank) to report whatever else is wrong with it.
                try:
                    issues.check_registration(self.actor, values, memo=self.memo)
                except DomainError as exc:
                    self._note(errors, exc, window_used)
                self._report(row_number, errors, values.get("title"))
            else:
                candidates.append((row_number, values, window_used))
        clean = self._check(candidates, self.memo) if candidates else []
        if not self.report.errors:
            self.checked.extend((n, values, w) for (n, _v, w), values in
                                zip(candidates, clean, strict=True))

    def write(self, prepared: issues.Prepared) -> None:
        """Register the checked rows, made into ``prepared`` while they were read (before
        SQLite's write lock), in the caller's transaction as a few bulk statements
        (``issues.write_registrations``), so that other users' writes wait only for that
        short transaction.  Once it holds the write lock, the import
        reads again what its check rested on (``RegistrationMemo.grounds``): when anything
        changed meanwhile (an owner deactivated, an org moved), every row is checked again
        under the lock; a title registered meanwhile meets the unique constraint, and then
        too.  A row refused then fails the import as a row error (``ImportFailed``) and
        nothing is written."""
        savepoint = db.session.begin_nested()  # the write transaction begins here
        try:
            if self.memo.grounds(self.actor) != self.grounds:
                prepared = issues.prepare_registrations(self.actor, self._check_again())
            ids = issues.write_registrations(prepared)
        except IntegrityError:
            savepoint.rollback()
            self._check_again()  # names the rows registered meanwhile (ImportFailed)
            raise
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        self.report.created_ids = ids

    def _check_again(self) -> list[dict[str, Any]]:
        """Every checked row checked again with fresh lookups; ``ImportFailed`` when any is
        refused now."""
        memo = RegistrationMemo()
        clean: list[dict[str, Any]] = []
        for start in range(0, len(self.checked), BATCH):
            clean.extend(self._check(self.checked[start:start + BATCH], memo))
        if self.report.errors:
            raise ImportFailed(self.report)
        return clean

    def _check(self, rows: list[tuple[int, dict[str, Any], bool]],
               memo: RegistrationMemo) -> list[dict[str, Any]]:
        """``checked_registrations`` on ``rows``: their values as they will be registered;
        the rows it refuses become row errors (and nothing is returned)."""
        try:
            return issues.checked_registrations(
                self.actor, [values for _n, values, _w in rows], memo=memo)
        except issues.RowsRefused as refused:
            for index, refusal in sorted(refused.refusals.items()):
                row_number, values, window_used = rows[index]
                found: dict[str, Any] = {}
                self._note(found, refusal, window_used)
                self._report(row_number, found, values.get("title"))
            return []

    def _registered(self, parsed: list[Any]) -> set[tuple[int, str]]:
        """The chunk's (org, title) pairs registered already (one query; they are skipped)."""
        titles = {values["title"] for _n, values, _e, _w in parsed if values["title"]}
        org_ids = {values["org_id"] for _n, values, _e, _w in parsed if values["org_id"]}
        if not (titles and org_ids):
            return set()
        return {(org_id, title) for org_id, title in db.session.execute(
            select(Issue.org_id, Issue.title).where(
                Issue.campaign_id == self.campaign_id, Issue.org_id.in_(org_ids),
                Issue.title.in_(titles),
            )
        )}

    def _skip(self, row_number: int, values: dict[str, Any],
              existing: set[tuple[int, str]]) -> bool:
        """Skip a row repeated in the file, or registered already: only in the actor's scope,
        so that an import never tells which titles exist outside it."""
        org_id, title = values["org_id"], values["title"]
        if org_id is None or not title:
            return False
        if not self.memo.in_scope(self.actor, org_id):
            return False  # the registration rules refuse it: no such org in your scope
        first = self.seen.get((org_id, title))
        if first is not None:
            self.report.skipped.append({
                "row": row_number, "title": title,
                "reason": _l("Same org and title as row %(row)s.", row=first)})
            return True
        self.seen[(org_id, title)] = row_number
        if (org_id, title) in existing:
            self.report.skipped.append({
                "row": row_number, "title": title,
                "reason": _l("Already registered in this campaign.")})
            return True
        return False

    def _note(self, errors: dict[str, Any], exc: DomainError, window_used: bool) -> None:
        """Add a refusal's field errors to a row's errors, under the sheet's columns."""
        for name, messages in (exc.errors or {"": [exc.message]}).items():
            key = FIELD_COLUMN.get(name, name)
            if key in ("starts_on", "due_on") and window_used:
                key = "window"
            if key == "due_on" and "due_in_working_days" in errors:
                continue  # the row gave working days instead, and they were wrong
            errors.setdefault(key, _joined(messages))

    def _report(self, row_number: int, errors: dict[str, Any], title: Any = "") -> None:
        for key, message in errors.items():
            self.report.errors.append(RowError(row_number, self.labels.get(key, key), message,
                                               str(title or "")))


#: Columns whose text may hold line breaks.
MULTILINE_COLUMNS = frozenset({"description", "cause", "measures"})


def _joined(messages: Any) -> Any:
    """One message, or several joined (each rendered when the sentence is)."""
    if isinstance(messages, list | tuple):
        return messages[0] if len(messages) == 1 else LazyJoin(messages)
    return messages


class LazyJoin:
    """Several messages shown as one, each in the reader's language."""

    def __init__(self, parts: Any) -> None:
        self.parts = list(parts)

    def __str__(self) -> str:
        return " ".join(str(m) for m in self.parts)


def _parse_row(
    cells: dict[str, Any],
    campaign_id: int,
    lookups: _Lookups,
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The row's field values, the errors found reading it, and whether a window was used."""
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {"campaign_id": campaign_id}

    # Text is clean (SPEC §7), as on the form and the API: a cell holding control characters
    # (or, for the one-line cells, line breaks) is an error of its row, never saved.
    for key, value in cells.items():
        why = clean_text.problem(_cell_text(value), multiline=key in MULTILINE_COLUMNS)
        if why is not None:
            errors[key] = str(why)
            cells = {**cells, key: None}
    title = _cell_text(cells.get("title"))
    if "title" in errors:
        title = ""
    elif not title:
        errors["title"] = _l("The problem (问题) is required.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("At most %(n)s characters (%(given)s given).", n=TITLE_MAX,
                             given=len(title))
        title = ""
    values["title"] = title
    for key in ("description", "cause", "measures"):
        values[key] = _cell_text(cells.get(key))

    for key, find in (("org", lookups.org), ("category", lookups.category),
                      ("owner", lookups.owner)):
        text = _cell_text(cells.get(key))
        values[f"{key}_id"] = None
        if not text:
            errors.setdefault(key, _l("Required."))
            continue
        try:
            hit = find(text)  # type: ignore[operator]
        except ValueError as exc:
            errors[key] = exc.args[0] if exc.args else str(exc)
            continue
        values[f"{key}_id"] = hit if isinstance(hit, int) else hit.id

    # Dates come from the window (整改时限) when it is filled in, else from the two columns.
    # On a working-day campaign, 完成工作日数 may stand instead of 完成时限.
    working = _cell_text(cells.get("due_in_working_days"))
    window_used = "window" in cells and _cell_text(cells.get("window")) != "" or (
        "starts_on" not in cells or ("due_on" not in cells and not working)
    )
    values["starts_on"] = values["due_on"] = None
    if window_used:
        try:
            values["starts_on"], values["due_on"] = parse_window(cells.get("window"))
        except ValueError as exc:
            errors.setdefault("window", exc.args[0] if exc.args else str(exc))
    else:
        for key in ("starts_on", "due_on"):
            if key == "due_on" and working and not _cell_text(cells.get("due_on")):
                continue
            try:
                values[key] = parse_date(cells.get(key))
            except ValueError as exc:
                errors.setdefault(key, exc.args[0] if exc.args else str(exc))
    # 登记日期 is optional: empty means today; never after today (the service checks).
    values["registered_on"] = None
    if _cell_text(cells.get("registered_on")):
        try:
            values["registered_on"] = parse_date(cells.get("registered_on"))
        except ValueError as exc:
            errors["registered_on"] = exc.args[0] if exc.args else str(exc)
    if working and not window_used:
        try:
            values["due_in_working_days"] = _working_days_cell(working)
        except ValueError:
            errors["due_in_working_days"] = _l("A whole number of working days, e.g. 20.")
    return values, errors, window_used


def _working_days_cell(text: str) -> int:
    """完成工作日数: ``20``, ``20.0`` (a spreadsheet's number) or ``20个工作日``."""
    text = text.strip().removesuffix("个工作日").removesuffix("工作日").strip()
    number = float(text)
    if not number.is_integer():
        raise ValueError(text)
    return int(number)


# --- the template ----------------------------------------------------------------------


@dataclass
class _Choices:
    """The caller's units, categories and officers: rows for the instructions (what the
    reader sees, the last item being what the dropdown offers and the importer reads)."""

    units: list[tuple[str, str, str]]
    categories: list[tuple[str, str, str]]
    owners: list[tuple[str, str, str, str]]


def _choices(user: User) -> _Choices:
    """The units, categories and officers of ``user``'s scope, each with the value its
    dropdown offers: the name in the reader's language where no other org or user has it
    (the importer finds it), the code or username where the name is ambiguous."""
    orgs = db.session.execute(
        select(Org.code, Org.name, Org.name_bo).where(owners.scope_clause(user, Org.id))
        .order_by(Org.depth, Org.code)
    ).all()
    # How many orgs answer to each name (Chinese or Tibetan), over the whole tree: the
    # importer looks names up everywhere before it checks the scope.
    named: dict[str, int] = {}
    for name, name_bo in db.session.execute(select(Org.name, Org.name_bo)):
        for n in {name, name_bo or name}:
            named[n] = named.get(n, 0) + 1
    tibetan = reader_language() == "bo"
    units = []
    for code, name, name_bo in orgs:
        shown = str(name_bo if tibetan and name_bo else name)
        units.append((code, shown, shown if named.get(shown, 0) == 1 else code))
    categories = [(cat.code, cat.local_name, cat.local_name) for cat in
                  db.session.scalars(select(Category).order_by(Category.code, Category.id))]
    users = db.session.execute(
        select(User.username, User.display_name, Org.local_name_column())
        .join(Org, Org.id == User.org_id)
        .where(User.active.is_(True), owners.scope_clause(user, User.org_id))
        .order_by(Org.depth, Org.code, User.username)
    ).all()
    shared = set(db.session.scalars(
        select(User.display_name).group_by(User.display_name).having(func.count() > 1)))
    people = [(username, display, org_name, username if display in shared else display)
              for username, display, org_name in users]
    return _Choices(units, categories, people)


def _example_window() -> str:
    """A window of a year from today, as the reader would type it."""
    starts = today()
    due = starts + timedelta(days=365)
    if reader_language() == "zh":
        return f"{format_cn_date(starts)}至{format_cn_date(due)}"
    return f"{starts.isoformat()} ~ {due.isoformat()}"


def _column_help(window: str) -> dict[str, str]:
    """What each template column holds (the instruction sheet's third column)."""
    return {key: str(text) for key, text in {
        "no": _l("A running number; ignored. The row numbered “%(example)s” is the example "
                 "and is never imported.", example=EXAMPLE_MARK),
        "org": _l("The unit's name or code: choose it from the dropdown (the units of your "
                  "scope are listed below)."),
        "category": _l("The problem category: choose it from the dropdown (code or name)."),
        "title": _l("The problem in one line (at most 300 characters)."),
        "description": _l("The problem in detail."),
        "cause": _l("The analysed cause."),
        "measures": _l("The rectification measures."),
        "owner": _l("The responsible officer's name or username: choose it from the "
                    "dropdown."),
        "window": _l("Two dates joined by 至, 到, ~ or -, e.g. %(example)s.", example=window),
        "registered_on": _l("The day the finding entered the ledger, if before today; empty "
                            "means today."),
    }.items()}


def template_xlsx(user: User) -> IO[bytes]:
    """The import template of ``user``, in the reader's language.

    Sheet 1 (the sheet the importer reads): the headings and one example row (序号 示例, never
    imported), with dropdowns on the unit, category and officer columns.  Sheet 2, 填写说明:
    each column, whether it is required, the date forms, the caller's units, categories and
    officers.  Sheet 3, hidden: the dropdowns' lists (a range, so that 10,000 units fit,
    where Excel caps an inline list at 255 characters).
    """
    from openpyxl.utils import get_column_letter

    choices = _choices(user)
    window = _example_window()
    data_title = spreadsheets.sheet_title(str(_l("Ledger")))
    lists_title = spreadsheets.sheet_title(str(_l("Lists")))
    book = spreadsheets.Workbook()

    ws = book.sheet(data_title, widths=[8, 24, 30, 40, 40, 40, 40, 16, 30, 14], freeze="A2",
                    print_title_rows="1:1", landscape=True, fit_width=True)
    ws.append([ws.cell(h, bold=True, boxed=True,
                       fill="DDEBF7" if key in REQUIRED_COLUMNS else None)
               for key, h in zip(TEMPLATE_COLUMNS, sheets.headings(TEMPLATE_COLUMNS),
                                 strict=True)])
    example = {
        "no": str(EXAMPLE_MARK),
        "org": choices.units[0][2] if choices.units else "",
        "category": choices.categories[0][2] if choices.categories else "",
        "title": str(_l("(Example) Window staff cannot explain the procedure, so people come "
                        "back again and again")),
        "description": str(_l("(Example) What was found, where and how often.")),
        "cause": str(_l("(Example) Why it happens.")),
        "measures": str(_l("(Example) What will be done, by whom and by when.")),
        "owner": choices.owners[0][3] if choices.owners else "",
        "window": window,
        "registered_on": "",
    }
    ws.append([ws.cell(example[key], italic=True, color="808080", wrap=True)
               for key in TEMPLATE_COLUMNS])
    for key, list_column, values in (("org", "A", choices.units),
                                     ("category", "B", choices.categories),
                                     ("owner", "C", choices.owners)):
        if values:
            letter = get_column_letter(TEMPLATE_COLUMNS.index(key) + 1)
            ws.dropdown(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}",
                        spreadsheets.sheet_reference(lists_title, list_column, 2,
                                                     len(values) + 1))

    guide = book.sheet(str(_l("Instructions")), widths=[22, 12, 70, 36])
    guide.append([guide.cell(str(_l("How to fill in the import template")), bold=True,
                             size=14)])
    for line in (
        _l("Write one finding per row on the sheet “%(sheet)s”, below its header row. The "
           "headings may be in Chinese, Tibetan or English, in any order; other columns are "
           "ignored.", sheet=data_title),
        _l("The row whose %(no)s is “%(example)s” is an example: it is never imported. "
           "Overwrite it or leave it.", no=sheets.COLUMN_LABELS["no"], example=EXAMPLE_MARK),
        _l("All rows or none: if any row is wrong, nothing is imported and each error names "
           "its row. A row whose unit and problem are registered in the campaign already is "
           "skipped."),
        _l("Dates may be written 2018-07-07, 2018/7/7, 2018年7月7日 or 20180707, or be date "
           "cells."),
        _l("Instead of %(window)s: the columns %(starts)s and %(due)s; on a campaign counted "
           "in working days, %(days)s instead of %(due)s.",
           window=sheets.COLUMN_LABELS["window"], starts=sheets.COLUMN_LABELS["starts_on"],
           due=sheets.COLUMN_LABELS["due_on"], days=sheets.COLUMN_LABELS["due_in_working_days"]),
    ):
        guide.append([guide.cell(str(line), wrap=True)])
        guide.merge(guide.rows, 1, guide.rows, 4)
    guide.append([])
    guide.append([guide.cell(str(h), bold=True, boxed=True)
                  for h in (_l("Column"), _l("Required or not"), _l("What to write"),
                            EXAMPLE_MARK)])
    helps = _column_help(window)
    required, optional = str(_l("Required")), str(_l("Optional"))
    for key in TEMPLATE_COLUMNS:
        guide.append([guide.cell(str(sheets.COLUMN_LABELS[key]), bold=key in REQUIRED_COLUMNS,
                                 boxed=True),
                      guide.cell(required if key in REQUIRED_COLUMNS else optional, boxed=True),
                      guide.cell(helps[key], boxed=True, wrap=True),
                      guide.cell(example[key], boxed=True, wrap=True)])

    choose = _l("Choose in the dropdown")
    for title, head, rows in (
        (_l("Units of your scope"), (_l("Code"), _l("Name"), choose), choices.units),
        (_l("Problem categories"), (_l("Code"), _l("Name"), choose), choices.categories),
        (_l("Responsible officers"),
         (_l("Username"), _l("Name"), sheets.COLUMN_LABELS["org"], choose), choices.owners),
    ):
        guide.append([])
        guide.append([guide.cell(str(title), bold=True, size=12)])
        guide.append([guide.cell(str(h), bold=True, boxed=True) for h in head])
        for row in rows:
            guide.append([guide.cell(v, boxed=True) for v in row])

    lists = book.sheet(lists_title, widths=[30, 40, 20], hidden=True)
    lists.append([str(sheets.COLUMN_LABELS[k]) for k in ("org", "category", "owner")])
    for i in range(max(len(choices.units), len(choices.categories), len(choices.owners))):
        lists.append([choices.units[i][2] if i < len(choices.units) else None,
                      choices.categories[i][2] if i < len(choices.categories) else None,
                      choices.owners[i][3] if i < len(choices.owners) else None])
    return book.save()
