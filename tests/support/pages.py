"""The page session: a test client with production's per-request caches, and the login form."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g, has_app_context
from flask.testing import FlaskClient

from tests.factories import PASSWORD


class PageClient(FlaskClient):
    """A test client that starts every request with fresh CSRF token and language caches.

    The ``ctx`` fixture keeps one app context open for the whole test, and requests reuse
    it, so ``g`` (where Flask-WTF caches the token) would outlive a request, as it never
    does in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        if has_app_context():
            from flask_babel import refresh

            g.pop("csrf_token", None)
            g.pop("_login_user", None)
            refresh()  # Flask-Babel caches the language on the (shared) context too
        return super().open(*args, **kwargs)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the form, token and all."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(page.text)})


def post_form(client: FlaskClient, page_path: str, action: str, data: dict[str, Any]) -> Any:
    """Post ``data`` to ``action`` with the CSRF token of the page at ``page_path``."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page.text)})


def page_client(app: Flask) -> PageClient:
    """A new page session on ``app``: its own cookies (a second browser, another user)."""
    return PageClient(app, app.response_class, use_cookies=True)


def import_on_page(client: FlaskClient, path: str, campaign_id: int, **form: Any) -> Any:
    """Upload a spreadsheet on the import page, as a clerk does, and let a worker run the job
    the page queues (the pages run every import as a job, SPEC §6): the job's page once the
    job has ended, or the import page's own answer when it refused the upload.  The test
    must commit for real (``pytest.mark.commits``): the job reports from a connection of its
    own."""
    import io
    import os

    from tracker.jobs import service

    page = client.get("/imports")
    with open(path, "rb") as fh:
        answer = client.post("/imports", data={
            "csrf_token": csrf_token(page.text), "campaign_id": str(campaign_id),
            "file": (io.BytesIO(fh.read()), os.path.basename(path)), **form},
            content_type="multipart/form-data")
    if answer.status_code != 303:
        return answer
    assert re.fullmatch(r"/jobs/\d+", answer.headers["Location"]), answer.headers["Location"]
    assert service.work(once=True) == 1
    return client.get(answer.headers["Location"])
