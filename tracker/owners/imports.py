"""Users by spreadsheet (SPEC §6 "User import columns"): all rows or none.

Columns in any order, headed in Chinese or English: 用户名/username, 姓名/display_name,
单位/org (code or name), 角色/role (the words the pages show, or the codes), 邮箱/email,
语言/locale (中文/藏文/English or the codes), 认证/auth (local or ldap).  A username that
exists is an error, not a skip.  Each new local user gets a temporary password, shown once on
the result, and must choose their own at the first login.  Rows are checked in memory and
written in batched inserts.  The temporary passwords are random (~93 bits) and hashed with
the fast method meant for them (``passwords.hash_temporary_password``), so 1,000 users take a
second, not minutes of scrypt.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from typing import IO, Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from tracker import spreadsheets
from tracker import text as text_rules
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.owners.labels import ROLE_LABELS
from tracker.owners.models import AUTH_KINDS, ROLES, Org, Role, User
from tracker.owners.passwords import hash_temporary_password, temporary_password
from tracker.owners.service import LOCALES, require_admin
from tracker.pages import LANGUAGE_NAMES, in_every_language, is_chinese
from tracker.spreadsheets import RowError, cell_text, normalise_header, read_rows

#: Canonical column -> the headings accepted for it (compared after normalising).
HEADERS: dict[str, tuple[str, ...]] = {
    "username": ("用户名", "username", "账号", "登录名"),
    "display_name": ("姓名", "display_name", "name"),
    "org": ("单位", "org", "unit"),
    "role": ("角色", "role"),
    "email": ("邮箱", "email", "电子邮箱", "e-mail"),
    "locale": ("语言", "locale", "language"),
    "auth": ("认证", "auth", "认证方式"),
}
COLUMNS = tuple(HEADERS)
REQUIRED = ("username", "display_name", "org", "role")
#: The words of the 语言 column besides the codes.
LOCALE_WORDS = {"中文": "zh_Hans", "汉语": "zh_Hans", "汉文": "zh_Hans", "藏文": "bo",
                "藏语": "bo", "english": "en", "英文": "en", "英语": "en"}
AUTH_WORDS = {"本地": "local", "密码": "local", "目录": "ldap"}
USERNAME_MAX, DISPLAY_MAX, EMAIL_MAX = 80, 120, 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Rows a template's dropdowns cover.
TEMPLATE_ROWS = 5_000


class UsersImportFailed(Invalid):
    """Some rows are wrong: nothing was saved (422, every error listed by its row)."""

    reason = "import_failed"

    def __init__(self, report: UsersReport) -> None:
        super().__init__(
            _l("%(errors)s error(s) in %(rows)s row(s); nothing was imported.",
               errors=len(report.errors), rows=report.rows),
            errors={"rows": [e.as_dict() for e in report.errors]})
        self.report = report


@dataclass
class UsersReport:
    """What an import of users did (or, in a dry run, would do)."""

    filename: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    #: Per new user: row, username, and (local users) the temporary password, shown once.
    users: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"filename": self.filename, "dry_run": self.dry_run, "rows": self.rows,
                "created": self.created, "users": self.users}


@cache
def _header_lookup() -> dict[str, str]:
    lookup = {normalise_header(alias): key for key, aliases in HEADERS.items()
              for alias in aliases}
    for key in COLUMNS:
        for heading in in_every_language(COLUMN_LABELS[key]):
            lookup.setdefault(normalise_header(heading), key)
    return lookup


@cache
def _role_words() -> dict[str, str]:
    words = {role: role for role in ROLES}
    for role, label in ROLE_LABELS.items():
        for text in in_every_language(label):
            words[normalise_header(text)] = role
    words.update({"督查人员": "supervisor", "督查": "supervisor", "责任人": "officer",
                  "登记员": "registrar", "管理员": "admin"})
    return words


def _locale_of(text: str) -> str | None:
    if text in LOCALES:
        return text
    key = normalise_header(text)
    for code, name in LANGUAGE_NAMES.items():
        if normalise_header(name) == key:
            return code
    return LOCALE_WORDS.get(key) or {c.lower(): c for c in LOCALES}.get(key)


def _orgs() -> tuple[dict[str, int], dict[str, list[int]]]:
    """Org ids by code, and by name (a name may be shared: then the code must be used)."""
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for org_id, code, name, name_bo in db.session.execute(
            select(Org.id, Org.code, Org.name, Org.name_bo)):
        by_code[code] = org_id
        for n in {name, name_bo} - {None, ""}:
            by_name.setdefault(str(n), []).append(org_id)
    return by_code, by_name


def import_users(path: str, filename: str, actor: User, *, dry_run: bool = False
                 ) -> UsersReport:
    """Read ``path`` and add its users (admin): every row or none (``UsersImportFailed``)."""
    require_admin(actor)
    report = UsersReport(filename=filename, dry_run=dry_run)
    rows = read_rows(path, filename)
    header = next(rows, None)
    if header is None:
        report.errors.append(RowError(1, "", _l("The file is empty.")))
        raise UsersImportFailed(report)
    positions = _map_headers(header, report)
    by_code, by_name = _orgs()
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=2):
        cells = {key: cell_text(row[i]) if i < len(row) else "" for key, i in positions.items()}
        if not any(cells.values()):
            continue  # a blank line
        report.rows += 1
        values = _parse_row(number, cells, by_code, by_name, report)
        if values is not None:
            parsed.append((number, values))
    _check_usernames(parsed, report)
    if report.errors:
        raise UsersImportFailed(report)
    if dry_run:
        report.users = [{"row": n, "username": v["username"]} for n, v in parsed]
        return report
    _insert(parsed, report)
    return report


def _map_headers(header: list[Any], report: UsersReport) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, value in enumerate(header):
        key = _header_lookup().get(normalise_header(value))
        if key is None:
            continue  # other columns (备注, …) are allowed and ignored
        if key in positions:
            report.errors.append(RowError(1, str(value).strip(),
                                          _l("This column appears twice.")))
            continue
        positions[key] = index
    for key in REQUIRED:
        if key not in positions:
            report.errors.append(RowError(1, HEADERS[key][0], _l(
                "The column %(zh)s / %(en)s is missing.", zh=HEADERS[key][0], en=key)))
    return positions


def _parse_row(number: int, cells: dict[str, str], by_code: dict[str, int],
               by_name: dict[str, list[int]], report: UsersReport) -> dict[str, Any] | None:
    """The row's values, or None with its errors added to ``report``."""
    errors: list[tuple[str, Any]] = []
    username = cells.get("username", "")
    display_name = cells.get("display_name", "") or username
    for key, value, longest in (("username", username, USERNAME_MAX),
                                ("display_name", display_name, DISPLAY_MAX),
                                ("email", cells.get("email", ""), EMAIL_MAX)):
        if key in REQUIRED and not value:
            errors.append((key, _l("Required.")))
        elif len(value) > longest:
            errors.append((key, _l("At most %(max)s characters.", max=longest)))
        elif value and (why := text_rules.problem(value)) is not None:
            errors.append((key, why))
    if username and (why := text_rules.username_problem(username)) is not None:
        errors.append(("username", why))  # the rule of every path (invisible, look-alike)
    email = cells.get("email", "")
    if email and not _EMAIL.match(email):
        errors.append(("email", _l("Not a valid email address.")))
    role = _role_words().get(normalise_header(cells.get("role", "")))
    if role is None:
        errors.append(("role", _l("Unknown role: %(value)s", value=cells.get("role", ""))))
    org_text = cells.get("org", "")
    org_id = by_code.get(org_text)
    if org_id is None and org_text:
        named = by_name.get(org_text, [])
        if len(named) > 1:
            errors.append(("org", _l("Several units are named %(name)s: write the code.",
                                     name=org_text)))
        elif named:
            org_id = named[0]
        else:
            errors.append(("org", _l("No such unit: %(value)s", value=org_text)))
    elif org_id is None and role != Role.admin:
        errors.append(("org", _l("Required.")))
    locale = _locale_of(cells.get("locale", "")) if cells.get("locale") else "zh_Hans"
    if locale is None:
        errors.append(("locale", _l("Unknown language: %(value)s", value=cells["locale"])))
    auth_text = normalise_header(cells.get("auth", "")) or "local"
    auth = auth_text if auth_text in AUTH_KINDS else AUTH_WORDS.get(auth_text)
    if auth is None:
        errors.append(("auth", _l("Must be one of %(choices)s.", choices="local, ldap")))
    for key, message in errors:
        report.errors.append(RowError(number, str(COLUMN_LABELS[key]), message))
    if errors:
        return None
    return {"username": username, "display_name": display_name, "email": email or None,
            "role": role, "org_id": org_id, "locale": locale, "auth": auth}


def _check_usernames(parsed: list[tuple[int, dict[str, Any]]], report: UsersReport) -> None:
    """A username already in the ledger, or twice in the file, is an error."""
    # Unique as people read them (SPEC §3): compared by the one key every path uses.
    keys = {number: text_rules.username_key(values["username"])[:80]
            for number, values in parsed}
    seen: dict[str, int] = {}
    for number, _values in parsed:
        key = keys[number]
        if key in seen:
            report.errors.append(RowError(number, str(COLUMN_LABELS["username"]), _l(
                "The same username as row %(row)s.", row=seen[key])))
        else:
            seen[key] = number
    wanted = sorted(set(keys.values()))
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        taken.update(db.session.scalars(select(User.username_key).where(
            User.username_key.in_(wanted[start:start + 500]))))
    for number, values in parsed:
        if keys[number] in taken:
            report.errors.append(RowError(number, str(COLUMN_LABELS["username"]), _l(
                "The username %(name)s exists already.", name=values["username"])))


def _insert(parsed: list[tuple[int, dict[str, Any]]], report: UsersReport) -> None:
    """One bulk insert; each local user with a hashed temporary password to change."""
    local = [(n, v) for n, v in parsed if v["auth"] == "local"]
    passwords = [temporary_password() for _ in local]
    # Made passwords of ~93 bits: the fast hash (passwords.py says why); the production hash
    # is for the password each user chooses at the first sign-in.
    hashes = [hash_temporary_password(p) for p in passwords]
    hashed = {n: (p, h) for (n, _v), p, h in zip(local, passwords, hashes, strict=True)}
    rows = []
    for number, values in parsed:
        password, hash_ = hashed.get(number, (None, ""))
        rows.append({**values, "password_hash": hash_, "active": True,
                     "notify_mail": "immediate", "auth_generation": 0,
                     "must_change_password": password is not None})
        entry: dict[str, Any] = {"row": number, "username": values["username"]}
        if password is not None:
            entry["temporary_password"] = password
        report.users.append(entry)
    # One bulk INSERT (executemany): ORM objects were written one INSERT … RETURNING a row,
    # a thousand statements for a thousand users.  What the model derives from the username
    # (its unique key) is set by the model's own function.
    for row in rows:
        row["username_key"] = User.key_of(row["username"])
    db.session.execute(insert(User), rows)
    db.session.flush()
    report.created = len(rows)


# --- the template ------------------------------------------------------------------------

#: Each column's heading as the template and the errors name it.
COLUMN_LABELS = {
    "username": _l("Username"), "display_name": _l("Name"), "org": _l("Unit"),
    "role": _l("Role"), "email": _l("Email"), "locale": _l("Language"), "auth": _l("Sign-in"),
}


def template_xlsx() -> IO[bytes]:
    """The users' import template in the reader's language: the headings (Chinese ones for a
    Chinese or Tibetan reader, which every reader's file may use), dropdowns of the units,
    roles, languages and sign-in, and a sheet of instructions."""
    from openpyxl.utils import get_column_letter

    chinese_headings = is_chinese() or str(COLUMN_LABELS["role"]) != "Role"
    headings = [HEADERS[k][0] if chinese_headings else HEADERS[k][1] for k in COLUMNS]
    units = [code for (code,) in db.session.execute(
        select(Org.code).order_by(Org.depth, Org.code))]
    roles = [str(ROLE_LABELS[r]) for r in reversed(ROLES)]
    lists = {"org": units, "role": roles, "locale": list(LANGUAGE_NAMES.values()),
             "auth": list(AUTH_KINDS)}
    lists_title = spreadsheets.sheet_title(str(_l("Lists")))
    book = spreadsheets.Workbook()
    ws = book.sheet(str(_l("Users")), widths=[20, 16, 20, 14, 28, 12, 10], freeze="A2")
    ws.append([ws.cell(h, bold=True, boxed=True, fill="DDEBF7" if k in REQUIRED else None)
               for k, h in zip(COLUMNS, headings, strict=True)])
    guide = book.sheet(str(_l("Instructions")), widths=[100])
    for line in (
        _l("One user per row, below the header row. The headings may be in Chinese or "
           "English, in any order; other columns are ignored."),
        _l("Unit: its code or name. Role: the words the pages show or the codes (officer, "
           "registrar, supervisor, admin). Language: 中文, 藏文, English or the codes "
           "(default Chinese). Sign-in: local (a password here) or ldap (the directory)."),
        _l("All rows or none: if any row is wrong, nothing is imported and each error names "
           "its row. A username that exists already is an error."),
        _l("Each new local user gets a temporary password, shown once after the import: pass "
           "it on; they choose their own at the first login."),
    ):
        guide.append([guide.cell(str(line), wrap=True)])
    hidden = book.sheet(lists_title, hidden=True)
    longest = max(len(v) for v in lists.values())
    for i in range(longest):
        hidden.append([values[i] if i < len(values) else None
                       for values in (lists["org"], lists["role"], lists["locale"],
                                      lists["auth"])])
    for letter_of_list, key in zip("ABCD", ("org", "role", "locale", "auth"), strict=True):
        if lists[key]:
            column = get_column_letter(COLUMNS.index(key) + 1)
            ws.dropdown(f"{column}2:{column}{TEMPLATE_ROWS + 1}",
                        spreadsheets.sheet_reference(lists_title, letter_of_list, 1,
                                                     len(lists[key])))
    return book.save()


def run_upload(actor: User, upload: Any, *, dry_run: bool) -> UsersReport:
    """Save an uploaded file to a temporary file and import its users (no commit)."""
    import tempfile

    if upload is None or not upload.filename:
        raise Invalid(_l("The upload is incomplete."),
                      errors={"file": [_l("Choose an .xlsx or .csv file.")]})
    fd, path = tempfile.mkstemp(prefix="tracker-users-")
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.save(fh)
        return import_users(path, os.path.basename(upload.filename), actor, dry_run=dry_run)
    finally:
        os.unlink(path)


def summary(report: UsersReport) -> str:
    """One line in the reader's language: what was (or would be) added."""
    if report.dry_run:
        return gettext("%(n)s user(s) checked; nothing was saved (a trial run).",
                       n=report.rows)
    return gettext("%(n)s user(s) added.", n=report.created)
