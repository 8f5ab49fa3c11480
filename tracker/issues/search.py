"""Search by words (SPEC §6 "Search"): the one home of what ``q`` matches and how.

An issue matches when every word of ``q`` (words are split at spaces, the full-width space
too) occurs in its title, description, cause or measures, or in its owner's display name or
username, or when a word is its number (``17``, ``#17``).  Chinese words are found inside
longer text, Tibetan words are one or more syllables, Latin words match case-insensitively.

The text is indexed in ``issue_search``, one row per issue, written in the transaction of every
change (a flush listener below; an import's rows in bulk through the same ``write_rows``):
``tokens`` (bigrams and single characters of CJK runs, Tibetan syllables split at the tsheg,
Latin and digit words whole), ``body`` (the four texts, normalised) and ``scope`` (a token
``§<id>`` for the issue's org and every org above it, read from the org closure for the rows
being written).  PostgreSQL answers the tokens and
the scope from one GIN index over a stored ``tsvector`` of both (``vector``, a generated column:
migration 0025); SQLite from an FTS5 table over both kept by triggers.  A search asks the index
for the word's tokens and the reader's scope together, so the index itself keeps a prefecture's
matches from the rest of the country's; where the tokens cannot decide (a word of three Chinese
characters is found by its pairs, which may stand apart) ``LIKE`` on the candidates' body
confirms the word.  A search counts its matches up to COUNT_LIMIT only.

The owner's name is not in the tokens: a word is looked up among the users first (10,000 at
most, one short statement) and, when it names someone, adds that person's issues through the
owner index.  So an owner change or a renamed user needs no re-indexing, whichever code
moved the issues.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    ForeignKey,
    Select,
    String,
    Text,
    and_,
    bindparam,
    cast,
    column,
    delete,
    event,
    literal,
    literal_column,
    or_,
    select,
    table,
    true,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.batchids import insert_rows
from tracker.extensions import Model, db
from tracker.issues.models import Issue
from tracker.owners.models import OrgClosure, User
from tracker.text import ascii_int

#: The fields whose words are indexed, in the order the body holds them.
FIELDS = ("title", "description", "cause", "measures")
#: Longest token kept (a Latin "word" of a pasted URL; PostgreSQL's lexemes are bounded).
MAX_TOKEN = 60
#: Marks an org's scope token (see ``scope_token``).
SCOPE_MARK = "§"
#: The largest issue number a word may be (the id column is a 32-bit integer).
MAX_ID = 2_147_483_647
#: A search counts its matches up to this many, no further: a common word matches a good
#: part of the ledger, and counting every match cost more than finding the page (at 100,000
#: issues a prefecture's ``窗口`` matches 23,255).  Past it the list says "more than 1,000"
#: (``total_exact`` false in ``X-Pagination``); the pages past it are still served.
COUNT_LIMIT = 1000


class IssueSearch(Model):
    """An issue's words as the search index holds them (written by this module only)."""

    __tablename__ = "issue_search"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"),
                                          primary_key=True)
    tokens: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    #: ``scope_tokens`` of the issue's org (migration 0025).
    scope: Mapped[str] = mapped_column(Text)


#: PostgreSQL's stored ``tsvector`` of the tokens (migration 0025: a generated column, so the
#: database writes it with the tokens; not mapped, SQLite has none).
_VECTOR: ColumnClause[Any] = literal_column("issue_search.vector")

#: SQLite's FTS5 table over ``issue_search.tokens`` (migration 0019; not a model: virtual).
_FTS = table("issue_search_fts", column("rowid"))


# --- words and tokens ----------------------------------------------------------------------


def normalise(text: str) -> str:
    """Text as it is indexed and matched: NFKC (full-width letters, digits and spaces become
    their plain forms) and case-folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _kind(char: str) -> str:
    """``c`` for a CJK character, ``t`` for a Tibetan letter, mark or digit, ``w`` for another
    letter, digit or mark, `` `` for anything that separates words."""
    code = ord(char)
    if (0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x3134F or 0x3040 <= code <= 0x30FF
            or 0xAC00 <= code <= 0xD7AF):
        return "c"
    category = unicodedata.category(char)
    if category[0] not in "LMN":
        return " "  # the tsheg and shad are punctuation (Po): syllables split there
    return "t" if 0x0F00 <= code <= 0x0FFF else "w"


def _runs(text: str) -> Iterator[tuple[str, str]]:
    """The runs of one kind of character in normalised ``text``, as (kind, run)."""
    kind, start = " ", 0
    for i, char in enumerate(text):
        k = _kind(char)
        if k != kind:
            if kind != " ":
                yield kind, text[start:i]
            kind, start = k, i
    if kind != " ":
        yield kind, text[start:]


def tokens(text: str) -> set[str]:
    """The index tokens of ``text`` (normalised here): every CJK character and every pair of
    neighbouring ones, each Tibetan syllable, each other word whole."""
    found: set[str] = set()
    for kind, run in _runs(normalise(text)):
        if kind == "c":
            found.update(run)
            found.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            found.add(run[:MAX_TOKEN])
    return found


def query_tokens(word: str) -> list[tuple[str, bool]]:
    """The tokens an issue must hold to contain ``word`` (normalised), each with whether it
    may be a prefix: a CJK run by its pairs (a single character by itself), a Tibetan syllable
    or a Latin word as it is, the last one also as the start of a longer one."""
    found: list[tuple[str, bool]] = []
    runs = list(_runs(word))
    for index, (kind, run) in enumerate(runs):
        if kind == "c":
            found.extend((run[i:i + 2], False) for i in range(max(1, len(run) - 1)))
        else:
            # Only the word's edges may be cut off inside the text (the LIKE confirms);
            # Latin words are indexed whole, so the last one may be the start of one.
            found.append((run[:MAX_TOKEN], kind == "w" and index == len(runs) - 1))
    return found


def words(q: str) -> list[str]:
    """The distinct normalised words of ``q`` (split at any space, the full-width one too)."""
    seen: dict[str, None] = {}
    for word in normalise(q).split():
        seen.setdefault(word, None)
    return list(seen)


def count_limit(q: str | None) -> int | None:
    """How far a list filtered by ``q`` counts its matches: COUNT_LIMIT for a search, None
    (every one) for a list without words."""
    return COUNT_LIMIT if q and words(q) else None


def _number(word: str) -> int | None:
    """The issue number ``word`` names (``17``, ``#17``), or None."""
    number = ascii_int(word.removeprefix("#"))
    return number if number is not None and 0 < number <= MAX_ID else None


def scope_token(org_id: int) -> str:
    """The index token of an org's scope: an issue holds it when it lies in that org's
    subtree.  ``§`` is no word character, so no text token is ever one."""
    return f"{SCOPE_MARK}{org_id}"


def scope_tokens(org_ids: Iterable[int]) -> str:
    """The ``scope`` of an issue whose org has these ancestors (itself included)."""
    return " ".join(scope_token(o) for o in sorted(set(org_ids)))


def index_row(issue_id: int, texts: Sequence[str | None]) -> dict[str, Any]:
    """The ``issue_search`` row of an issue with these texts (in FIELDS' order)."""
    joined = "\n".join(t or "" for t in texts)
    return {"issue_id": issue_id, "tokens": " ".join(sorted(tokens(joined))),
            "body": normalise(joined)}


# --- matching ------------------------------------------------------------------------------


def _token_match(dialect: str, needed: list[tuple[str, bool]]) -> ColumnElement[bool]:
    """The index condition on ``issue_search``: it holds every one of ``needed``."""
    if dialect == "postgresql":
        terms = " & ".join(f"'{t}'" + (":*" if prefix else "") for t, prefix in needed)
        # In the statement's text, not a parameter: psycopg prepares a statement on its
        # fifth use, and a prepared plan that cannot see the words guessed how common they
        # were (a word in no finding walked the whole prefecture in due-date order, 1.6 s
        # at 100,000 issues).  The tokens are letters, digits and §: nothing to escape,
        # and the literal is quoted by SQLAlchemy all the same.
        query = bindparam("search_terms", terms, type_=String, unique=True,
                          literal_execute=True)
        return _VECTOR.op("@@")(cast(query, TSQUERY))
    return IssueSearch.issue_id.in_(_fts_ids(needed))


def _fts_ids(needed: list[tuple[str, bool]]) -> Select[Any]:
    """SQLite: the ids of the issues whose index row holds every one of ``needed``."""
    # FTS5's phrases, all of them (a space between phrases means AND).
    terms = " ".join(f'"{t}"' + ("*" if prefix else "") for t, prefix in needed)
    return select(_FTS.c.rowid).where(literal_column("issue_search_fts").op("MATCH")(
        literal(terms, String)))


def decided_by_tokens(word: str) -> bool:
    """Whether holding the tokens of ``word`` is holding ``word`` itself, so that no ``LIKE``
    need confirm it: a word of one run (no separator inside or around it) that is one token
    — one or two CJK characters (a pair is indexed only where the two stand together), one
    Tibetan syllable, or one other word (its token, whole or as a prefix, contains it)."""
    runs = list(_runs(word))
    if len(runs) != 1 or runs[0][1] != word:
        return False
    kind, run = runs[0]
    return len(run) <= 2 if kind == "c" else len(run) <= MAX_TOKEN


def _text_ids(dialect: str, text_words: list[str], scope: int | None) -> Select[Any]:
    """The ids of issues whose texts hold every one of ``text_words`` (in the subtree of
    org ``scope``, when given: the index narrows to it, the caller's filters still apply)."""
    needed = [t for word in text_words for t in query_tokens(word)]
    confirm = [IssueSearch.body.contains(word, autoescape=True) for word in text_words
               if not (needed and decided_by_tokens(word))]
    if not needed:
        return select(IssueSearch.issue_id).where(*confirm)
    if scope is not None:
        needed.append((scope_token(scope), False))
    needed = list(dict.fromkeys(needed))
    if dialect != "postgresql" and not confirm:
        # The tokens decide: FTS5's ids as they are, without a lookup in issue_search each.
        return _fts_ids(needed)
    return select(IssueSearch.issue_id).where(*confirm, _token_match(dialect, needed))


def _owners_named(word: str) -> list[int]:
    """The ids of users whose display name or username holds ``word``."""
    return list(db.session.scalars(select(User.id).where(or_(
        User.display_name.icontains(word, autoescape=True),
        User.username.icontains(word, autoescape=True)))))


def matches(q: str, scope: int | None = None) -> ColumnElement[bool]:
    """WHERE clause on ``Issue``: the issues that hold every word of ``q`` (see the module).

    ``scope``: an org whose subtree the caller keeps to anyway (the reader's scope or the
    ``org_id`` filter): the index is asked for it with the words.

    Words that only text can match are looked up together, through one index condition;
    a word that names an owner or an issue number adds those issues to its own candidates.
    """
    found = words(q)
    if not found:
        return true()
    dialect = db.session.get_bind().dialect.name
    plain: list[str] = []
    alternatives: list[ColumnElement[bool]] = []
    for word in found:
        owner_ids = _owners_named(word)
        number = _number(word)
        if not owner_ids and number is None:
            plain.append(word)
            continue
        branches: list[Select[Any]] = [_text_ids(dialect, [word], scope)]
        if owner_ids:
            branches.append(select(Issue.id).where(Issue.owner_id.in_(owner_ids)))
        if number is not None:
            branches.append(select(Issue.id).where(Issue.id == number))
        alternatives.append(Issue.id.in_(union(*branches)))
    clauses: list[ColumnElement[bool]] = (
        [Issue.id.in_(_text_ids(dialect, plain, scope))] if plain else [])
    clauses.extend(alternatives)
    return and_(*clauses)


# --- keeping the index ----------------------------------------------------------------------


#: Issues whose scopes one statement reads (SQLite allows 32,766 parameters, psycopg 65,535).
SCOPE_CHUNK = 30_000


def scopes_of(connection: Any, issue_ids: Sequence[int]) -> dict[int, str]:
    """The ``scope`` of each of these issues (written already, in this transaction), from
    their orgs' ancestors in the org closure: one statement for an import's chunk (up to
    SCOPE_CHUNK issues, within both databases' limits on parameters)."""
    found: dict[int, list[int]] = {}
    for start in range(0, len(issue_ids), SCOPE_CHUNK):
        for issue_id, ancestor in connection.execute(
                select(Issue.id, OrgClosure.ancestor_id)
                .join(OrgClosure, OrgClosure.descendant_id == Issue.org_id)
                .where(Issue.id.in_(issue_ids[start:start + SCOPE_CHUNK]))):
            found.setdefault(issue_id, []).append(ancestor)
    return {issue_id: scope_tokens(ancestors) for issue_id, ancestors in found.items()}


def write_rows(connection: Any, rows: Iterable[dict[str, Any]], *, new: bool = False) -> None:
    """Replace the index rows of these issues (in the caller's transaction): rows of
    ``index_row`` (the issues already written), each given its scope; ``new``: the issues
    were registered in this transaction and have none yet.  One INSERT however many rows
    (an import's)."""
    rows = list(rows)
    if not rows:
        return
    ids = [row["issue_id"] for row in rows]
    if not new:
        for start in range(0, len(ids), 1000):
            connection.execute(delete(IssueSearch).where(
                IssueSearch.issue_id.in_(ids[start:start + 1000])))
    scopes = scopes_of(connection, ids)
    insert_rows(connection, IssueSearch.__table__,
                [{**row, "scope": scopes.get(row["issue_id"], "")} for row in rows])


def reindex(connection: Any, issue_ids: Iterable[int]) -> None:
    """Index these issues again from their stored texts."""
    ids = sorted(set(issue_ids))
    columns = [getattr(Issue, f) for f in FIELDS]
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        write_rows(connection, (index_row(row[0], row[1:]) for row in connection.execute(
            select(Issue.id, *columns).where(Issue.id.in_(chunk)))))


def subtree_moved(sender: Any = None, *, org_id: int, **_: Any) -> None:
    """Listener of ``owners.service.subtree_moved`` (sent once the org closure is re-linked,
    in the move's transaction): the issues of the moved subtree take the scope of their new
    line, so that a search in the new prefecture finds them and one in the old does not."""
    connection = db.session.connection()
    ids = list(connection.scalars(select(Issue.id).where(Issue.org_id.in_(
        select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == org_id)))))
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        scopes = scopes_of(connection, chunk)
        connection.execute(
            update(IssueSearch).where(IssueSearch.issue_id == bindparam("moved_id"))
            .values(scope=bindparam("moved_scope")),
            [{"moved_id": i, "moved_scope": scopes.get(i, "")} for i in chunk])


@event.listens_for(Session, "after_flush")
def _index_changed(session: Session, _context: Any) -> None:
    """Index the issues this flush registered or whose texts or org it changed, in its
    transaction."""
    registered, changed = [], []
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Issue) or obj.id is None:
            continue
        if obj in session.new:
            registered.append(index_row(obj.id, [getattr(obj, f) for f in FIELDS]))
        elif _texts_changed(obj):
            changed.append(index_row(obj.id, [getattr(obj, f) for f in FIELDS]))
    write_rows(session.connection(), registered, new=True)
    write_rows(session.connection(), changed)


def _texts_changed(issue: Issue) -> bool:
    """Whether this flush changed one of the indexed texts of ``issue``, or its org."""
    from sqlalchemy import inspect

    state = inspect(issue)
    return any(state.attrs[f].history.has_changes() for f in (*FIELDS, "org_id"))
