"""The site's authentication backend reads the user's units with the user (config/auth.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.auth import UserBackend
from tests.tracker.factories import UnitFactory, UserFactory
from tracker import access

pytestmark = pytest.mark.django_db


def test_a_signed_in_supervisors_scope_unit_costs_no_statement_of_its_own():
    root = UnitFactory()
    supervisor = UserFactory(role="supervisor", unit=UnitFactory(parent=root),
                             supervision_root=root)
    with CaptureQueriesContext(connection) as queries:
        user = UserBackend().get_user(supervisor.pk)
        assert access.scope_unit(user) == root
        assert user.unit == supervisor.unit
    assert len(queries) == 1


def test_an_inactive_or_unknown_user_is_not_signed_in():
    inactive = UserFactory(is_active=False)
    assert UserBackend().get_user(inactive.pk) is None
    assert UserBackend().get_user(10**9) is None


def test_a_page_request_reads_the_officers_unit_with_the_session_user(client):
    officer = UserFactory(role="officer")
    client.force_login(officer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tasks/")
    assert response.status_code == 200
    unit_reads = [q["sql"] for q in queries.captured_queries
                  if q["sql"].lstrip().startswith('SELECT "tracker_unit"."id"')
                  and f'"tracker_unit"."id" = {officer.unit_id}' in q["sql"]]
    assert unit_reads == []
