"""Schemathesis against /api/schema/, in-process over WSGI: no 5xx, no answer that breaks the schema.

Every operation of the OpenAPI schema gets generated requests (valid and invalid: wrong types,
missing and unknown fields); each answer must be no server error, have a documented status code
and content type, and match the documented response schema. The run must send at least 1,000
requests in all; the last test checks the count and prints the figures.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.helpers import example, register, start_case

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MIN_REQUESTS = 1_000
EXAMPLES_PER_OPERATION = 45
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SENT: Counter[str] = Counter()  # requests per method and path (including methods the path does not allow)
OPERATIONS: Counter[str] = Counter()  # requests per documented operation of the schema
STATUSES: Counter[int] = Counter()


def _load_schema() -> schemathesis.schemas.BaseSchema:
    """The live schema of the Django app (drf-spectacular builds it without the database)."""
    from knhk.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = _load_schema()


@pytest.fixture
def auth_headers(api_client, settings) -> dict[str, str]:
    """A superuser's JWT header, with a workflow, a case and its work items in the database."""
    settings.WORKFLOW_RATE_LIMIT = 1_000_000  # the fuzzer is one client sending as fast as it can
    spec_id = register(api_client, example("loan-approval"))["spec_id"]
    start_case(api_client, spec_id, {"applicant": "Ann", "amount": 500})
    # As Django's test client does: the WSGI requests must not close the test's database connection
    # (Django's request signals close a connection inside the test transaction; fatal on PostgreSQL).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": api_client._credentials["HTTP_AUTHORIZATION"]}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk at length
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(case, auth_headers) -> None:
    response = case.call(headers=auth_headers)
    SENT[f"{case.method} {case.path}"] += 1
    OPERATIONS[case.operation.label] += 1
    STATUSES[response.status_code] += 1
    case.validate_response(response, checks=CHECKS, headers=auth_headers)


def test_fuzzing_sent_enough_requests_and_saw_no_server_error() -> None:
    if not SENT:
        pytest.skip("the fuzz test did not run (select the whole file)")
    total = sum(SENT.values())
    server_errors = sum(count for status, count in STATUSES.items() if status >= 500)
    print(
        f"\nschemathesis: {total} requests over {len(OPERATIONS)} documented operations ({len(SENT)} method/path "
        f"pairs, with the methods a path does not allow); statuses {dict(sorted(STATUSES.items()))}"
    )
    assert server_errors == 0
    assert total >= MIN_REQUESTS, f"only {total} requests: {dict(SENT)}"
