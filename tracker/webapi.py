"""The HTTP helpers every domain's API shares: blueprints, strict schemas, fields, paging,
``If-Match``, JSON bodies and attachments.  Knows no domain (authentication lives in owners)."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import wraps
from typing import IO, Any, TypeVar
from urllib.parse import quote

import marshmallow as ma
import orjson
from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from tracker import text
from tracker.errors import DomainError, UnsupportedMediaType
from tracker.extensions import csrf

# The pages' shape lives in the base's paging module; the API's modules reach it from here.
from tracker.paging import page_meta as page_meta  # noqa: F401
from tracker.paging import paginate as paginate  # noqa: F401
from tracker.timeutil import check_dates

F = TypeVar("F", bound=Callable[..., Any])

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
#: The highest page number a list accepts.
MAX_PAGE = 10_000_000


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest blueprint under /api/v1, exempt from CSRF (it is token-authenticated)."""
    blp = Blueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)
    csrf.exempt(blp)
    return blp




class StrictSchema(ma.Schema):
    """Request bodies: unknown fields are an error (422 naming them)."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    """Query strings: unknown parameters are ignored."""

    class Meta:
        unknown = ma.EXCLUDE


class AsciiInteger(ma.fields.Integer):
    """An integer of a query string or form: ASCII digits only (an optional ``-``), at most 12
    of them (``text.ascii_int``); a strict field (JSON) takes JSON integers only, as before."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not self.strict:
            digits = value.strip()
            number = text.ascii_int(digits.removeprefix("-"), 12)
            if number is None:
                raise self.make_error("invalid")
            value = -number if digits.startswith("-") else number
        return super()._deserialize(value, attr, data, **kwargs)


class PageArgs(QuerySchema):
    """``page`` and ``page_size`` (at most 500)."""

    page = AsciiInteger(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = AsciiInteger(
        load_default=DEFAULT_PAGE_SIZE, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


#: A query string's value in its plain form: ``plain_query`` reads only these itself.
_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def plain_number(low: int, high: int) -> Callable[[str], Any]:
    """A reader of ``plain_query``: a whole number in ``low`` … ``high`` written plainly
    (digits, no sign, no leading zero, no space); None for anything else."""

    def read(value: str) -> int | None:
        if _PLAIN_NUMBER.fullmatch(value) is None:
            return None
        number = int(value)
        return number if low <= number <= high else None

    return read


def plain_choice(choices: Iterable[str]) -> Callable[[str], Any]:
    """A reader of ``plain_query``: one of ``choices`` exactly; None for anything else."""
    allowed = frozenset(choices)
    return lambda value: value if value in allowed else None


def plain_date(value: str) -> Any:
    """A reader of ``plain_query``: an ISO date ``YYYY-MM-DD`` within the ledger's domain;
    None for anything else."""
    if _PLAIN_DATE.fullmatch(value) is None:
        return None
    try:
        day = date.fromisoformat(value)
        check_dates({"date": day})
    except (ValueError, DomainError):
        return None
    return day


def schema_defaults(schema: ma.Schema) -> dict[str, Any]:
    """What a schema loads for the fields a query string leaves out (its ``load_default``s)."""
    return {name: f.load_default for name, f in schema.fields.items()
            if f.load_default is not ma.missing}


def plain_query(readers: dict[str, Callable[[str], Any]],
                defaults: dict[str, Any]) -> dict[str, Any] | None:
    """The request's query string read without webargs, for the hot JSON reads (issue 26):
    ``defaults`` with each parameter read by its reader, when every parameter is one of
    ``readers``, given once, in the plain form its reader takes.  Anything else (an
    unknown, repeated or unusual parameter, a bad value) gives None: the caller then
    parses with its schema, which answers or refuses (422) exactly as it always did, so
    this reader decides nothing a user could notice.  Tests hold the two to the same
    arguments (tests/test_hot_path.py)."""
    args = dict(defaults)
    query = request.args
    for key in query:
        reader = readers.get(key)
        values = query.getlist(key)
        if reader is None or len(values) != 1:
            return None
        value = reader(values[0])
        if value is None:
            return None
        args[key] = value
    return args


def json_response(data: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A JSON answer encoded by orjson (UTF-8, no ASCII escapes), for the hot read paths
    whose data is already plain (dicts, lists, strings, numbers)."""
    resp = Response(orjson.dumps(data), status=status, mimetype="application/json")
    resp.headers.update(headers or {})
    return resp


def pagination_header(meta: dict[str, int]) -> dict[str, str]:
    """The ``X-Pagination`` header: a JSON string, documented as such."""
    return {"X-Pagination": json.dumps(meta)}


#: OpenAPI description of the X-Pagination header (a string holding JSON).
PAGINATION_HEADER_DOC = {
    "X-Pagination": {
        "description": "JSON: total, total_pages, page, page_size",
        "schema": {"type": "string"},
    }
}




def if_match() -> str | None:
    """The client's ``If-Match`` header, if any."""
    return request.headers.get("If-Match")


# --- pieces shared by the JSON endpoints ------------------------------------------------

#: Largest id the databases hold (PostgreSQL ``integer``); larger ids in a path answer 404.
MAX_ID = 2_147_483_647
#: Route converter for ids: ``f"/<{ID}:issue_id>"``.
ID = f"int(min=1, max={MAX_ID})"


class IdField(AsciiInteger):
    """A reference to a row by id in a JSON body: a positive 32-bit JSON integer (else 422)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


class IdParam(IdField):
    """A reference to a row by id in a query string (digits)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=False, **kwargs)


def _no_nul(value: str) -> None:
    # PostgreSQL refuses NUL in text; refuse it as bad input before it reaches the database.
    if "\x00" in value:
        raise ma.ValidationError(_l("NUL characters are not allowed."))


class Text(ma.fields.String):
    """A clean string (SPEC §7): trimmed, then judged by ``tracker.text``; at most
    ``max_length`` characters; ``multiline`` keeps line breaks; ``not_blank``: some text."""

    def __init__(self, max_length: int | None = None, *, min_length: int | None = None,
                 not_blank: bool = False, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        validators: list[Any] = [self._clean]
        if not_blank:
            validators.append(_Contains(r"\S", error=_l("Must not be blank.")))
        if max_length is not None or min_length is not None:
            validators.append(ma.validate.Length(min=min_length, max=max_length))
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return text.trim(super()._deserialize(value, attr, data, **kwargs))

    def _clean(self, value: str) -> None:
        why = text.problem(value, multiline=self.multiline)
        if why is not None:
            raise ma.ValidationError([why])  # a list: marshmallow keeps the lazy message


class _Contains(ma.validate.Regexp):
    """Some match anywhere in the value (JSON Schema's ``pattern``), not only at its start."""

    def __call__(self, value: Any) -> Any:
        if self.regex.search(value) is None:
            raise ma.ValidationError(str(self.error))
        return value


class Password(ma.fields.String):
    """A password: taken as typed (never trimmed), without NUL."""

    def __init__(self, max_length: int, *, min_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(validate=[_no_nul, ma.validate.Length(min=min_length, max=max_length)],
                         **kwargs)


class LedgerDate(ma.fields.Date):
    """A date the ledger accepts (ISO ``YYYY-MM-DD``) within its one domain (SPEC §4): outside
    it, 422 ``date_out_of_range`` naming the field (``timeutil.check_dates``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        day = super()._deserialize(value, attr, data, **kwargs)
        check_dates({self.data_key or self.name or attr or "date": day})
        return day


class UtcDateTime(ma.fields.DateTime):
    """A stored (naive UTC) timestamp written as ISO 8601 with ``Z``."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(value.replace(microsecond=0).isoformat()) + "Z"


#: JSON nested deeper than this is refused (SPEC §7).
MAX_JSON_DEPTH = 100


class MalformedJson(DomainError):
    """A JSON body that is not well-formed, nests too deep or holds a lone surrogate (400)."""

    status = 400
    reason = "bad_request"


def _json_problem(body: bytes) -> Any:
    """Why a JSON body cannot be taken (a lazy message), or None."""
    try:
        doc = json.loads(body)
    except RecursionError:
        return _l("The JSON is nested too deep.")
    except ValueError:  # also UnicodeDecodeError
        return _l("The body is not well-formed JSON.")
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _l("The JSON is nested too deep.")
        if isinstance(value, str):
            values: list[Any] = [value]
        elif isinstance(value, dict):
            values = list(value.keys())
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            values = []
            stack.extend((v, depth + 1) for v in value)
        else:
            continue
        if any(_SURROGATE.search(v) for v in values):
            return _l("The JSON holds a lone surrogate, which is not text.")
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_json_body() -> None:
    """Refuse a malformed JSON body with 400 before anything else reads it (before login)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return
    body = request.get_data(cache=True)
    if not body.strip():
        return
    why = _json_problem(body)
    if why is not None:
        raise MalformedJson(why, errors={"json": [why]})


def init_app(app: Flask) -> None:
    """Check every JSON body before the views (and their logins) see it."""
    app.before_request(check_json_body)


def require_json_body(fn: F) -> F:
    """Refuse a body that is not JSON with 415 (before the schema sees an empty body)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not request.is_json:
            raise UnsupportedMediaType(
                _l("Send a JSON body with 'Content-Type: application/json'.")
            )
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]




#: OpenAPI description of the optional ``If-Match`` header of issue writes.
IF_MATCH_PARAM = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": 'The version from the ETag ("3" or 3); a stale one answers 412.',
    "schema": {"type": "string"},
}


def precheck(check: Callable[..., Any]) -> Callable[[F], F]:
    """Run ``check(**path_args)`` before the body is parsed: 404 and 403 come before 422.

    SPEC §3 orders refusals 401, 404, 403, 400/422, 409, 412; flask-smorest parses the body
    before the view runs, so scope and role checks that must win go here.
    """

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(**kwargs)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


class StrictBoolean(ma.fields.Boolean):
    """A JSON ``true``/``false`` in a body; 0, 1 and strings are refused (422)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


# --- attachments -------------------------------------------------------------------------


def ascii_filename(name: str) -> str:
    """A plain-ASCII stand-in for ``name`` (accents dropped, anything else as ``_``)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    safe = "".join(c if c.isalnum() or c in "._- ()" else "_" for c in folded).strip(" ._")
    ext = os.path.splitext(name)[1]
    return safe or ("download" + (ext if ext.isascii() else ""))


def content_disposition(filename: str, fallback: str | None = None) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and ``filename*=UTF-8''``."""
    plain = ascii_filename(fallback or filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_chunks(fh: IO[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    """Stream an open file and close it, also when the client goes away early."""
    try:
        while chunk := fh.read(size):
            yield chunk
    finally:
        fh.close()


def attachment(body: IO[bytes] | Iterable[bytes], filename: str, mimetype: str, *,
               fallback: str | None = None, cache: str = "private, no-store") -> Response:
    """A download: a file (streamed in chunks, with its length) or an iterable of chunks.

    ``fallback`` is the ASCII name for clients that do not read ``filename*``.
    """
    if hasattr(body, "read"):
        fh: IO[bytes] = body  # type: ignore[assignment]
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(0)
        resp = Response(file_chunks(fh), mimetype=mimetype)
        resp.headers["Content-Length"] = str(size)
    else:
        resp = Response(body, mimetype=mimetype)
    if mimetype.startswith("text/"):
        resp.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    resp.headers["Content-Disposition"] = content_disposition(filename, fallback)
    resp.headers["Cache-Control"] = cache
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
