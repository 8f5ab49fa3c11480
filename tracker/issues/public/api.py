"""REST API of public disclosure (政务公开) under /api/v1/public: no login, cached."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from tracker.issues.public import service
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    LedgerDate,
    PageArgs,
    api_blueprint,
    pagination_header,
)

blp = api_blueprint(
    "public", __name__, "/public",
    "Public disclosure (政务公开), without login: published campaigns, progress per county "
    "and the closed findings. Answers carry ETag and Cache-Control: public, max-age=300. "
    "Org and category names follow Accept-Language: the Tibetan names for bo (where an org "
    "or category has one), else the Chinese; the ETag differs per language "
    "(Vary: Accept-Language).",
)

CACHE_CONTROL = "public, max-age=300"
#: The request header the JSON answers depend on besides the URL (the names' language).
VARY = "Accept-Language"
CACHE_HEADERS_DOC = {
    "ETag": {"description": "Send it back in If-None-Match: 304 when unchanged.",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
    "Vary": {"description": VARY, "schema": {"type": "string"}},
}


class PublicCampaignSchema(ma.Schema):
    """A published campaign."""

    id = ma.fields.Integer()
    title = ma.fields.String()
    reference = ma.fields.String(allow_none=True)
    org_id = ma.fields.Integer()
    org_name = ma.fields.String()
    starts_on = LedgerDate()


class RatesSchema(ma.Schema):
    """Counts and rates: completion = closed / total; on time = closed by the due date /
    closed (null when none is closed)."""

    total = ma.fields.Integer()
    closed = ma.fields.Integer()
    completion_rate = ma.fields.Float()
    on_time_rate = ma.fields.Float(allow_none=True)


class CountySchema(RatesSchema):
    """A county's progress (its whole subtree)."""

    org_id = ma.fields.Integer()
    name = ma.fields.String()


class ClosedFindingSchema(ma.Schema):
    """A closed finding, as published."""

    title = ma.fields.String()
    category = ma.fields.String()
    county = ma.fields.String()
    measures = ma.fields.String()
    closed_on = LedgerDate()


class DisclosureSchema(PublicCampaignSchema):
    """A published campaign's progress per county and one page of its closed findings
    (``page``, ``page_size``; X-Pagination)."""

    as_of = LedgerDate()
    totals = ma.fields.Nested(RatesSchema)
    counties = ma.fields.List(ma.fields.Nested(CountySchema))
    closed_findings = ma.fields.List(ma.fields.Nested(ClosedFindingSchema))


def not_modified(tag: str, vary: str = VARY) -> Response | None:
    """A 304 when the client's If-None-Match holds ``tag`` (with the answer's ``Vary``)."""
    if tag in request.if_none_match:
        resp = Response(status=304)
        cached(resp, tag, vary)
        return resp
    return None


def cached(resp: Response, tag: str, vary: str = VARY) -> Response:
    """The caching headers of every public answer: ETag, Cache-Control and Vary (what
    besides the URL chose the answer's language)."""
    resp.set_etag(tag)
    resp.headers["Cache-Control"] = CACHE_CONTROL
    resp.vary.add(vary)
    return resp


def _headers(tag: str) -> dict[str, str]:
    return {"ETag": f'"{tag}"', "Cache-Control": CACHE_CONTROL, "Vary": VARY}


@blp.route("/campaigns")
class PublicCampaigns(MethodView):
    """The published campaigns."""

    @blp.response(200, PublicCampaignSchema(many=True), headers=CACHE_HEADERS_DOC)
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    def get(self) -> Any:
        """List the published campaigns, newest first (no login).

        The publishing org's name is in the language of Accept-Language."""
        rows = service.public_campaigns()
        tag = service.list_tag(rows)
        return not_modified(tag) or (rows, 200, _headers(tag))


@blp.route(f"/campaigns/<{ID}:campaign_id>")
class PublicCampaign(MethodView):
    """One published campaign."""

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DisclosureSchema,
                  headers={**CACHE_HEADERS_DOC, **PAGINATION_HEADER_DOC})
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    def get(self, args: dict[str, Any], campaign_id: int) -> Any:
        """Progress per county and the closed findings of a published campaign (no login);
        404 when the campaign is not public.

        Org and category names are in the language of Accept-Language."""
        campaign = service.get_public_campaign(campaign_id)
        tag = service.campaign_tag(campaign, "json", args["page"], args["page_size"])
        early = not_modified(tag)
        if early is not None:
            return early
        body, meta = service.disclosure(campaign, args["page"], args["page_size"])
        return body, 200, {**_headers(tag), **pagination_header(meta)}
