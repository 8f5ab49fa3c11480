"""schemathesis over the whole OpenAPI document: no server error, no schema violation.

Runs as the admin (who may call everything) against a small seeded ledger, with every
built-in check of schemathesis 4 (status codes, content types, headers, response schemas,
405 with Allow, auth, negative and positive data).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

HYPOTHESIS = settings(
    max_examples=15,
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


@pytest.fixture
def admin_headers(api: Any, seeded: Any) -> dict[str, str]:
    """The admin's bearer token."""
    return {"Authorization": f"Bearer {api.token('admin')}"}


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


@schema.parametrize()
@HYPOTHESIS
def test_api_conforms_to_its_document(
    case: Any, app: Any, admin_headers: dict[str, str]
) -> None:
    # buffered: the test client reads and closes each answer (downloads hold files open).
    response = case.call_and_validate(app=app, headers=admin_headers, buffered=True)
    assert response.status_code < 500
