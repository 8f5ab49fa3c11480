"""The demo world of the rectification ledger (整改台账), read from ``demo.toml`` beside this
module: the 2018 report of 果洛州 and its six counties on the self-inspection of their
administrative service centres, ordered by 果行公〔2018〕20号.  The data lives in the TOML file
(the report's findings, not logic); this module gives it its types and the names the ``demo``
command's loader (``demo.py``) and the tests use.

Contents
--------
``CATEGORIES`` / ``BO_CATEGORY_NAMES``
    The seven provincial problem categories (SPEC §8), codes ``C1`` … ``C7``, and their
    Tibetan names.
``ORGS`` / ``BO_ORG_NAMES``
    The organisation tree: prefecture 果洛州 → its centre and six counties → each county's
    centre → two to four window departments the report names for that county. Parents come
    before their children, so the list can be inserted in order.
``USERS`` / ``DEMO_PASSWORD``
    One admin, two supervisors (prefecture and 玛多县), a registrar per centre and two or
    three officers per centre. All share ``DEMO_PASSWORD``.
``CAMPAIGN``
    The one inspection round, 果行公〔2018〕20号.
``WORKING_CAMPAIGN`` / ``WORKING_FINDINGS``
    A second, current round counted in working days (工作日): poor ratings of the windows
    (政务服务"好差评" 差评), each to be put right within a number of working days. Its dates
    are counted back from the day the demo is loaded, so that its pages always show working
    days left and overdue (剩余 N 个工作日, 逾期 N 个工作日).
``FINDINGS``
    The problems each centre's report admits, condensed in the report's own words.
    Required keys: org_code, category_code, title, description, cause, measures,
    owner_username, starts_on, due_on, status. Optional keys:

    ``evidence``
        list of (filename, text content) to attach; present on every ``submitted`` and
        ``closed`` finding (and on one ``in_progress`` one, uploaded but not yet submitted).
    ``closed_on`` / ``closed_by``
        for ``closed`` findings: the verification date and the verifying supervisor's
        username (never the owner; the supervisor's org contains the finding's org).

The demo's tests (tests/test_demo.py) load it through the services, which hold every rule.
"""

from __future__ import annotations

import tomllib
from datetime import date
from importlib.resources import files
from typing import Any, Literal, NotRequired, TypedDict, cast

OrgKind = Literal["prefecture", "county", "centre", "department"]
Role = Literal["admin", "supervisor", "registrar", "officer"]
Status = Literal["open", "in_progress", "submitted", "closed"]


class OrgSpec(TypedDict):
    code: str
    name: str
    kind: OrgKind
    parent_code: str | None


class UserSpec(TypedDict):
    username: str
    display_name: str
    email: str
    role: Role
    org_code: str | None
    locale: str | None


class CampaignSpec(TypedDict):
    title: str
    title_bo: str
    reference: str
    org_code: str
    starts_on: date


class WorkingCampaignSpec(TypedDict):
    title: str
    title_bo: str
    reference: str | None
    org_code: str
    #: The campaign's first day: this many working days before the day of loading.
    started_working_days_ago: int


class _Finding(TypedDict):
    """What every demo finding names: where, what, whose."""

    org_code: str
    category_code: str
    title: str
    description: str
    cause: str
    measures: str
    owner_username: str


class WorkingFindingSpec(_Finding):
    #: starts_on (and the day it was registered): this many working days before loading.
    started_working_days_ago: int
    #: Registered with due_in_working_days: due_on is this many working days after starts_on.
    due_in_working_days: int
    status: Status
    evidence: NotRequired[list[tuple[str, str]]]
    #: For ``submitted`` and ``closed``: submitted this many working days after starts_on.
    submitted_after: NotRequired[int]
    #: For ``closed``: closed this many working days after starts_on, by ``closed_by``.
    closed_after: NotRequired[int]
    closed_by: NotRequired[str]


class FindingSpec(_Finding):
    starts_on: date
    due_on: date
    status: Status
    evidence: NotRequired[list[tuple[str, str]]]
    closed_on: NotRequired[date]
    closed_by: NotRequired[str]


_DATA: dict[str, Any] = tomllib.loads(
    files(__package__).joinpath("demo.toml").read_text(encoding="utf-8"))

DEMO_PASSWORD: str = _DATA["password"]
EMAIL_DOMAIN: str = _DATA["email_domain"]
#: The campaign's start: the report's rectification windows all open on 2018-07-07.
CAMPAIGN_START: date = _DATA["campaign_start"]
#: The day every finding entered the ledger: the report's date (SPEC §9).
REGISTERED_ON: date = _DATA["registered_on"]
#: The day owners started work on the findings that are not still open (the next Monday).
WORK_STARTED_ON: date = _DATA["work_started_on"]
#: Each county's (and the prefecture's) findings live in its centre's subtree.
COUNTY_CODES: list[str] = _DATA["county_codes"]
#: Working days allowed for each poor rating.
WORKING_DAYS_ALLOWED: int = _DATA["working_days_allowed"]

CATEGORIES: list[tuple[str, str]] = [(c["code"], c["name"]) for c in _DATA["categories"]]
BO_CATEGORY_NAMES: dict[str, str] = {c["code"]: c["name_bo"] for c in _DATA["categories"]
                                     if "name_bo" in c}

ORGS: list[OrgSpec] = [
    {"code": o["code"], "name": o["name"], "kind": o["kind"],
     "parent_code": o.get("parent_code")} for o in _DATA["orgs"]]
BO_ORG_NAMES: dict[str, str] = {o["code"]: o["name_bo"] for o in _DATA["orgs"] if "name_bo" in o}

USERS: list[UserSpec] = [
    {"username": u["username"], "display_name": u["display_name"],
     "email": f"{u['username']}@{EMAIL_DOMAIN}", "role": u["role"],
     "org_code": u.get("org_code"), "locale": u.get("locale")} for u in _DATA["users"]]

CAMPAIGN = cast(CampaignSpec, _DATA["campaign"])
WORKING_CAMPAIGN = cast(WorkingCampaignSpec, {"reference": None, **_DATA["working_campaign"]})


def _evidence(spec: dict[str, Any]) -> dict[str, Any]:
    if "evidence" in spec:
        spec["evidence"] = [(name, content) for name, content in spec["evidence"]]
    return spec


FINDINGS: list[FindingSpec] = [cast(FindingSpec, _evidence(f)) for f in _DATA["findings"]]
WORKING_FINDINGS: list[WorkingFindingSpec] = [
    cast(WorkingFindingSpec, _evidence({"due_in_working_days": WORKING_DAYS_ALLOWED, **f}))
    for f in _DATA["working_findings"]]
