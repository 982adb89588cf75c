"""Who sees which tasks: by unit and role (lists are checked separately from single tasks)."""

import pytest

from tests.tracker.factories import TaskFactory, UserFactory
from tracker import access, selectors
from tracker.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(bureau, county, town):
    return {
        "bureau": TaskFactory(lead_unit=bureau),
        "county": TaskFactory(lead_unit=county),
        "town": TaskFactory(lead_unit=town),
        "bureau_with_town": TaskFactory(lead_unit=bureau, supporting_units=[town]),
    }


def visible(user):
    return {task.title for task in selectors.task_list(user=user)}


def titles(tasks, *names):
    return {tasks[name].title for name in names}


def test_officer_sees_tasks_led_or_supported_by_their_unit(alice, bob, tasks):
    assert visible(alice) == titles(tasks, "bureau", "bureau_with_town")
    assert visible(bob) == titles(tasks, "town", "bureau_with_town")


def test_officer_covering_subunits_sees_the_subtree(county, tasks):
    lead = UserFactory(unit=county, role=Role.OFFICER, covers_subunits=True)
    assert visible(lead) == titles(tasks, "county", "town", "bureau_with_town")
    plain = UserFactory(unit=county, role=Role.OFFICER)
    assert visible(plain) == titles(tasks, "county")


def test_supervisor_sees_the_subtree_and_top_supervisor_sees_all(sam, chief, tasks):
    assert visible(sam) == titles(tasks, "county", "town", "bureau_with_town")
    assert visible(chief) == set(titles(tasks, *tasks))


def test_supervision_root_widens_a_supervisors_scope(city, bureau, tasks):
    inspector = UserFactory(unit=bureau, supervisor=True, supervision_root=city)
    assert visible(inspector) == set(titles(tasks, *tasks))


def test_admin_sees_everything_and_inactive_or_anonymous_nothing(root_admin, alice, tasks):
    from django.contrib.auth.models import AnonymousUser

    assert visible(root_admin) == set(titles(tasks, *tasks))
    alice.is_active = False
    assert visible(alice) == set()
    assert not selectors.task_list(user=AnonymousUser()).exists()


def test_lists_have_no_duplicate_rows_for_several_matching_units(sam, county, town):
    task = TaskFactory(lead_unit=county, supporting_units=[town])
    assert [t.pk for t in selectors.task_list(user=sam)] == [task.pk]


def test_single_task_checks_agree_with_the_lists(alice, bob, sam, tasks):
    for user in (alice, bob, sam):
        for task in tasks.values():
            assert access.can_view_task(user, task) == (task.title in visible(user))


def test_only_the_lead_unit_acts_for_it(alice, bob, sam, tasks):
    shared = tasks["bureau_with_town"]
    assert access.can_act_for_lead_unit(alice, shared)
    assert not access.can_act_for_lead_unit(bob, shared)
    assert access.can_contribute(bob, shared)
    assert not access.can_supervise(sam, tasks["bureau"])
    assert access.can_supervise(sam, tasks["town"])


def test_task_list_query_count_does_not_grow_with_tasks(
    django_assert_num_queries, chief, bureau, town
):
    def fetch():
        return [
            (t.lead_unit.name, t.problem.text, t.inspection.title,
             [u.name for u in t.supporting_units.all()])
            for t in selectors.task_list(user=chief)
        ]

    TaskFactory.create_batch(3, lead_unit=bureau, supporting_units=[town])
    # 1 query: tasks joined with lead unit, problem, inspection (the scope is a subquery);
    # 1 query: the supporting units of all of them.
    with django_assert_num_queries(2):
        assert len(fetch()) == 3
    TaskFactory.create_batch(40, lead_unit=bureau, supporting_units=[town])
    with django_assert_num_queries(2):
        assert len(fetch()) == 43


# --- The inspections a filter offers (selectors.inspections_for_filter) ------------------------


def test_inspection_filter_offers_exactly_the_inspections_with_a_visible_task(
    alice, bob, sam, chief, root_admin, tasks, django_assert_max_num_queries
):
    """Read from the maintained counts and the supported-only tasks; it must agree with the
    plain definition (an inspection with a task the user sees) for every kind of user."""
    from tests.tracker.factories import InspectionFactory, TaskFactory
    from tracker.models import Inspection, Task

    InspectionFactory()  # no task at all: offered to nobody
    moved = TaskFactory(lead_unit=tasks["town"].lead_unit)
    Task.objects.filter(pk=moved.pk).update(status="completed", closed_at="2026-01-05T10:00Z",
                                            completed_at="2026-01-05T10:00Z")
    for user in (alice, bob, sam, chief, root_admin):
        expected = set(
            Inspection.objects.filter(
                pk__in=Task.objects.filter(access.visible_tasks_q(user)).values("inspection_id")
            ).values_list("pk", flat=True)
        )
        with django_assert_max_num_queries(1):
            offered = {i.pk for i in selectors.inspections_for_filter(user=user)}
        assert offered == expected, user.username
    # bob sees "bureau_with_town" only through his supporting unit: it is offered all the same.
    assert tasks["bureau_with_town"].inspection_id in {
        i.pk for i in selectors.inspections_for_filter(user=bob)
    }


def test_as_instance_unwraps_the_request_s_lazy_user(alice):
    from django.utils.functional import SimpleLazyObject

    lazy = SimpleLazyObject(lambda: alice)
    assert access.as_instance(lazy) is alice  # set up on first use
    assert access.as_instance(lazy) is alice
    assert access.as_instance(alice) is alice
