"""Acceptance: schemathesis fuzzes every operation of the OpenAPI schema,
signed in as each role, and finds no 5xx and no response that violates the schema.

Examples per operation and role: SCHEMATHESIS_MAX_EXAMPLES (default 3 for the everyday run;
CI sets more, see docs/api.md).
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reports.models import ReviewState
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
)
from tests.tracker.factories import (
    DeadlineExtensionFactory,
    EvidenceFactory,
    ProgressReportFactory,
    TaskFactory,
)
from tracker.models import TaskStatus
from tracker.services.auth import api_token_issue

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3"))

_document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
schema = schemathesis.openapi.from_dict(_document)
schema.app = get_wsgi_application()

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
ROLES = ["own_officer", "other_officer", "supervisor_in", "supervisor_out", "admin", "anonymous"]


@pytest.fixture(autouse=True)
def keep_the_test_connection_open():
    """Schemathesis calls the WSGI app directly, so Django's request signals would close the
    database connection after each request and with it the test's transaction. Django's own
    test client disconnects this handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def role_headers(request, db, city, bureau, county, town, alice, bob, sam, root_admin):
    from tests.tracker.factories import UserFactory

    sue = UserFactory(username="sue", unit=bureau, supervisor=True)
    for status in TaskStatus:
        task = TaskFactory(lead_unit=town, status=status, supporting_units=[bureau])
        ProgressReportFactory(task=task, author=bob)
        EvidenceFactory(task=task, uploaded_by=bob)
        if status == TaskStatus.IN_PROGRESS:
            DeadlineExtensionFactory(task=task, requested_by=bob)
            # A report about this inspection: proposed and confirmed figures, items of both
            # kinds, so the reports and reconciliation endpoints have data to answer with.
            report = SourceReportFactory(inspection_id=task.inspection_id, imported_by=sam)
            ExtractedFigureFactory(report=report)
            ExtractedFigureFactory(report=report, review_state=ReviewState.CONFIRMED,
                                   inspection_id=task.inspection_id, completed=None)
            ExtractedItemFactory(report=report, kind="problem", position=1)
            ExtractedItemFactory(report=report, kind="measure", position=1)
    users = {"own_officer": bob, "other_officer": alice, "supervisor_in": sam,
             "supervisor_out": sue, "admin": root_admin, "anonymous": None}
    user = users[request.param]
    if user is None:
        return {}
    return {"Authorization": f"Token {api_token_issue(user=user)[1]}"}


@pytest.mark.parametrize("role_headers", ROLES, indirect=True)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_schema_fuzzing_finds_no_server_error_and_no_schema_violation(case, role_headers):
    case.call_and_validate(headers=role_headers, checks=CHECKS)
