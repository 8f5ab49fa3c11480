"""What the application checks of a request before anything else reads it: the length of its
request line and of each header field (SPEC §7, wave 3).

gunicorn answers a request line over ``--limit-request-line`` (default 4,094 bytes) or a
header over ``--limit-request-field_size`` with its own HTML page, which an API client cannot
read.  The production command (README, Deployment) therefore raises gunicorn's limits to its
bounded maximum and the application enforces the old limits itself, answering JSON 414 or
431 in the caller's language, like every other refusal.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask_babel import lazy_gettext as _l

from tracker.errors import error_body

#: The longest request line ("GET /path?query HTTP/1.1") answered: gunicorn's default.
MAX_REQUEST_LINE = 4094
#: The longest header field ("Name: value") answered: gunicorn's default.
MAX_HEADER_FIELD = 8190
#: The options of gunicorn that let the application see (and refuse) what is longer; the
#: request line's 8,190 bytes are the most gunicorn reads before refusing by itself (0 would
#: mean unlimited, and a worker's memory with it).
GUNICORN_OPTIONS = ("--limit-request-line", "8190", "--limit-request-field_size", "16380")


def _request_line_length() -> int:
    environ = request.environ
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if uri is None:
        query = environ.get("QUERY_STRING", "")
        uri = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
               + (f"?{query}" if query else ""))
    return len(request.method) + 1 + len(uri) + 1 + len(environ.get("SERVER_PROTOCOL", ""))


def _refusal(status: int, message: object, reason: str) -> Response:
    resp = jsonify(error_body(status, message, reason))
    resp.status_code = status
    resp.headers["Connection"] = "close"
    return resp


def check_lengths() -> Response | None:
    """Refuse an over-long request line (414) or header field (431) as JSON."""
    if _request_line_length() > MAX_REQUEST_LINE:
        return _refusal(414, _l("The address is too long (at most %(n)s bytes).",
                                n=MAX_REQUEST_LINE), "uri_too_long")
    for name, value in request.headers.items():
        if len(name) + 2 + len(value) > MAX_HEADER_FIELD:
            return _refusal(431, _l("The header %(name)s is too long (at most %(n)s bytes).",
                                    name=name[:100], n=MAX_HEADER_FIELD), "header_too_large")
    return None


def init_app(app: Flask) -> None:
    """Check the lengths before every other hook (logins, JSON bodies) runs."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_lengths)
