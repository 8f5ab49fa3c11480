"""The public pages (政务公开) at /public: no login, one language per page, cached."""

from __future__ import annotations

from flask import Response, make_response, render_template, request
from flask_babel import force_locale

from tracker.issues.public import service
from tracker.issues.public.api import cached, not_modified
from tracker.pages import LANGUAGE_NAMES, LANGUAGE_TAGS, LANGUAGES, page_number

#: Besides the URL's ``?lang=``, the ``lang`` cookie chooses the page's language.
VARY = "Cookie"


def _language() -> str:
    """``?lang=`` (the page's own switcher), else the ``lang`` cookie, else Chinese.

    Never the logged-in user's setting: the page is the same for everyone, so that caches
    may keep it; ``Vary: Cookie`` tells them the cookie counts.
    """
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else LANGUAGES[0]


def _page(template: str, tag: str, lang: str, **context: object) -> Response:
    html = render_template(template, lang=lang, LANGUAGES=LANGUAGES,
                           LANGUAGE_NAMES=LANGUAGE_NAMES, LANGUAGE_TAGS=LANGUAGE_TAGS,
                           **context)
    return cached(make_response(html), tag, VARY)


def index() -> Response:
    """The published campaigns."""
    lang = _language()
    # The page's language for everything: the words, and the org names (name_bo in bo).
    with force_locale(lang):
        rows = service.public_campaigns()
        tag = service.list_tag(rows, "html", lang)
        return not_modified(tag, VARY) or _page("public/index.html", tag, lang, campaigns=rows)


def campaign_page(campaign_id: int) -> Response:
    """A published campaign: progress per county with a chart, then its closed findings."""
    lang = _language()
    campaign = service.get_public_campaign(campaign_id)
    page = page_number()
    with force_locale(lang):
        tag = service.campaign_tag(campaign, "html", lang, page)
        early = not_modified(tag, VARY)
        if early is not None:
            return early
        body, meta = service.disclosure(campaign, page)
        return _page("public/campaign.html", tag, lang, c=body, meta=meta)
