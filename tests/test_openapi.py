"""schemathesis over the whole OpenAPI document: no server error, no schema violation.

Runs as the admin (who may call everything) against a small seeded ledger, with every
built-in check of schemathesis 4 (status codes, content types, headers, response schemas,
405 with Allow, auth, negative and positive data).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

#: Cases generated per operation: over 1,000 per run over the document's operations (checked
#: by the last test below); derandomized, so a run repeats the one before it.
EXAMPLES_PER_OPERATION = 32
MIN_CASES = 1000

HYPOTHESIS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.fixture
def seeded(world: Any, make: Any) -> Any:
    """A ledger with an issue in every state, evidence and history."""
    for status in ("open", "in_progress", "submitted", "closed"):
        make.issue(world.centre, world.officer, world.campaign, world.category, status=status)
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category2)
    return world


#: The admin's bearer token in every test: cases are generated while collecting, before any
#: test's database exists, so the token is fixed and each test stores its hash for its admin.
ADMIN_TOKEN = "schemathesis-admin-token-0123456789abcdef"


@pytest.fixture
def admin_token(seeded: Any) -> None:
    """Store ADMIN_TOKEN for this test's admin (only the SHA-256 is kept, as for any token)."""
    from datetime import timedelta

    from tracker.extensions import db
    from tracker.owners.models import ApiToken
    from tracker.timeutil import utcnow

    db.session.add(ApiToken(token_hash=hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
                            user_id=seeded.admin.id, auth_generation=seeded.admin.auth_generation,
                            expires_at=utcnow() + timedelta(hours=2)))
    db.session.commit()


def _document_app() -> Any:
    """An app that only serves the document at collection time (no database is touched).

    schemathesis' lazy fixture loader does not work with pytest 9, so the operations are
    collected from this app and each case is sent to the test's own app (``app=``).
    """
    from tracker import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "SECRET_KEY": "document-only"})


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())
# A request can match the document and still break a rule the document cannot state: an id
# that names no row, a due date before the start, a comment that reject and reopen require
# (422 naming the field, SPEC §6), or an upload whose content is not an accepted file type
# (415). Those count as correct answers to schema-valid data; every other check, and every
# other status, is as schemathesis ships it.
_positive = schema.config.checks.positive_data_acceptance
_positive.expected_statuses = [*_positive.expected_statuses, "415", "422"]
# tus 1.0.0 answers a Tus-Resumable version it does not speak with 412 (its specification
# says so), which is this API's rejection of that invalid header.
_negative = schema.config.checks.negative_data_rejection
_negative.expected_statuses = [*_negative.expected_statuses, "412"]
# A resumable upload whose announced length is over the limit is schema-valid and refused
# with 413, like a plain upload's content with 415.
_positive.expected_statuses = [*_positive.expected_statuses, "413"]


@schemathesis.serializer("application/offset+octet-stream")
def _tus_chunk(ctx: Any, value: Any) -> dict[str, Any]:
    """A tus chunk is raw bytes."""
    if isinstance(value, bytes):
        return {"data": value}
    return {"data": str(value).encode("utf-8")}


@schema.auth(refresh_interval=None)
class AdminToken:
    """Bearer auth through schemathesis, so that its own missing-auth cases stay missing."""

    def get(self, case: Any, context: Any) -> str:
        return ADMIN_TOKEN

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


#: Cases sent per operation in this run.
SENT: dict[str, int] = {}


@schema.parametrize()
@HYPOTHESIS
def test_api_conforms_to_its_document(case: Any, app: Any, admin_token: None) -> None:
    # buffered: the test client reads and closes each answer (downloads hold files open).
    SENT[case.operation.label] = SENT.get(case.operation.label, 0) + 1
    response = case.call_and_validate(app=app, buffered=True)
    assert response.status_code < 500


def test_over_a_thousand_cases_were_sent() -> None:
    """When every operation ran (the whole module), together they sent over 1,000 cases."""
    operations = {result.ok().label for result in schema.get_all_operations()}
    if set(SENT) != operations:
        pytest.fail(f"run the whole module: {len(operations - set(SENT))} operations not run",
                    pytrace=False)
    assert sum(SENT.values()) >= MIN_CASES, SENT
