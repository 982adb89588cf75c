"""The task list API reuses its compiled statement (tracker.statements) by the user's
visibility key (tracker.access.visible_tasks_key): the key must decide the visibility rule's
SQL, and a reused statement must still answer from the data as it is now."""

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import TaskFactory, UserFactory
from tracker import access, selectors, statements
from tracker.models import Role, Task
from tracker.services.units import unit_move

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_statements():
    statements.statements.clear()
    yield
    statements.statements.clear()


def _visible_sql(user) -> str:
    try:
        sql, params = Task.objects.filter(access.visible_tasks_q(user)).query.sql_with_params()
    except EmptyResultSet:  # a rule that matches nothing
        return "nothing"
    return sql % tuple(repr(p) for p in params)


def _ids(client, url="/api/v1/tasks/") -> list[int]:
    response = client.get(url)
    assert response.status_code == 200
    return [task["id"] for task in response.json()["results"]]


def test_the_visibility_key_decides_the_visibility_rules_sql(
    city, bureau, county, town, alice, bob, sam, chief, sue, root_admin
):
    """Users who share a key get the same SQL (the statement kept for one is right for the
    other), over every kind of user: officers (one unit, or the subtree with covers_subunits),
    supervisors (own unit or a supervision root), administrators (role or superuser), an
    inactive user, a user without a unit. (Two keys may still give the same SQL, e.g. an
    inactive user and one without a unit: that only keeps one statement twice.)"""
    users = [
        alice, bob, sam, chief, sue, root_admin,
        UserFactory(unit=town, role=Role.OFFICER),  # bob's twin
        UserFactory(unit=town, role=Role.OFFICER, covers_subunits=True),
        UserFactory(unit=county, role=Role.OFFICER, covers_subunits=True),
        UserFactory(unit=town, supervisor=True, supervision_root=county),  # sees as sam
        UserFactory(unit=town, supervisor=True),
        UserFactory(unit=bureau, role=Role.ADMIN),
        UserFactory(unit=town, role=Role.OFFICER, is_active=False),
        # Refused by a constraint when saved; the rule still answers for them.
        UserFactory.build(unit=None, role=Role.OFFICER),
        UserFactory.build(unit=None, supervisor=True),
    ]
    keys = [access.visible_tasks_key(user) for user in users]
    sqls = [_visible_sql(user) for user in users]
    for i in range(len(users)):
        for j in range(len(users)):
            if keys[i] == keys[j]:
                assert sqls[i] == sqls[j], (users[i], users[j])
    assert len(set(keys)) < len(keys)  # some users do share a statement (bob's twin, sam's)
    assert len(set(keys)) >= len(set(sqls)) == len(set(sqls) - {"nothing"}) + 1


def test_a_list_that_can_match_nothing_is_empty_from_a_kept_statement_too(town):
    """A rule that matches nothing compiles to no SQL at all (Django's EmptyResultSet): the
    kept statement is "no rows", and nothing runs."""
    TaskFactory(lead_unit=town)

    def build():
        return selectors.task_rows(Task.objects.filter(pk__in=[]))

    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert list(statements.ReusedStatement(build, key="none").order_by("-id")[:5]) == []
        assert len(queries) == 0


def test_a_moved_unit_is_a_new_key(city, bureau, county, town, sam):
    before = access.visible_tasks_key(sam)
    unit_move(unit=county, new_parent=bureau)
    sam.refresh_from_db()
    assert access.visible_tasks_key(sam) != before


def test_the_list_compiles_its_statement_once_per_scope_and_page(
    client_for, sam, bob, town, monkeypatch
):
    built = []
    task_list = selectors.task_list
    monkeypatch.setattr(selectors, "task_list",
                        lambda **kwargs: built.append(kwargs) or task_list(**kwargs))
    for _ in range(3):
        TaskFactory(lead_unit=town)
    client = client_for(sam)
    first = _ids(client)
    assert _ids(client) == first
    assert len(built) == 1
    _ids(client_for(bob))  # another scope: its own statement
    assert len(built) == 2
    _ids(client, "/api/v1/tasks/?ordering=deadline")  # another ordering: likewise
    assert len(built) == 3
    assert len(statements.statements.items) == 3


def test_a_filtered_list_builds_its_query_each_time(client_for, sam, town):
    TaskFactory(lead_unit=town, title="甲")
    client = client_for(sam)
    assert len(_ids(client, "/api/v1/tasks/?q=甲")) == 1
    assert statements.statements.items == {}


def test_a_reused_statement_reads_the_data_as_it_is_now(client_for, sam, town, bureau):
    """The statement is reused, never its rows: a new task in scope shows on the next
    request, one out of scope does not, and a supporting unit added since shows too."""
    first = TaskFactory(lead_unit=town)
    client = client_for(sam)
    assert _ids(client) == [first.pk]
    second = TaskFactory(lead_unit=town)
    TaskFactory(lead_unit=bureau)
    second.supporting_units.add(bureau)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/tasks/").json()
    assert [task["id"] for task in body["results"]] == [second.pk, first.pk]
    assert [unit["name"] for unit in body["results"][0]["supporting_units"]] == ["市教育局"]
    assert len(queries) == 1


def test_users_sharing_no_key_never_share_rows(client_for, alice, bob, sam, town, bureau):
    in_town, in_bureau = TaskFactory(lead_unit=town), TaskFactory(lead_unit=bureau)
    for _ in range(2):  # the second round from the kept statements
        assert _ids(client_for(bob)) == [in_town.pk]
        assert _ids(client_for(alice)) == [in_bureau.pk]
        assert _ids(client_for(sam)) == [in_town.pk]


def test_a_user_given_another_unit_sees_the_new_units_tasks_at_once(
    client_for, bob, town, bureau
):
    in_town, in_bureau = TaskFactory(lead_unit=town), TaskFactory(lead_unit=bureau)
    assert _ids(client_for(bob)) == [in_town.pk]
    bob.unit = bureau
    bob.save(update_fields=["unit"])
    assert _ids(client_for(bob)) == [in_bureau.pk]


def test_the_cursor_pages_of_a_reused_statement_walk_every_task_once(client_for, sam, town):
    for _ in range(7):
        TaskFactory(lead_unit=town)
    client = client_for(sam)
    for _ in range(2):  # compiled on the first walk, reused on the second
        seen, url = [], "/api/v1/tasks/?page_size=3&ordering=deadline"
        while url:
            body = client.get(url).json()
            seen += [task["id"] for task in body["results"]]
            url = body["next"]
        assert sorted(seen) == sorted(Task.objects.values_list("id", flat=True))
        assert len(seen) == len(set(seen))
