"""Acceptance 4: a rollup request costs the same number of queries for 3 groups and for 300.

Each slice i has its own unit (under the city), inspection, aspect and deadline month, so the
ledger has n groups in every grouping (kind has at most five: its choices).
"""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.factories import (
    InspectionFactory,
    ProblemFactory,
    TaskEventFactory,
    TaskFactory,
    TaskRecheckFactory,
    UnitFactory,
)
from tracker import workdays
from tracker.models import InspectionKind, TaskAction, User

pytestmark = pytest.mark.django_db

KINDS = list(InspectionKind.values)


def add_slices(city, start: int, stop: int) -> None:
    for i in range(start, stop):
        unit = UnitFactory(name=f"区县{i}", parent=city)
        inspection = InspectionFactory(kind=KINDS[i % len(KINDS)])
        problem = ProblemFactory(inspection=inspection, aspect=f"第{i}方面")
        deadline = dt.date(2001 + i // 12, i % 12 + 1, 15)
        task = TaskFactory(problem=problem, lead_unit=unit, deadline=deadline)
        TaskEventFactory(task=task, actor=None, action=TaskAction.CREATE, from_status="",
                         to_status=task.status, at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
        TaskRecheckFactory(task=task, state="due")  # 回头看 counts in every group


# Queries of one request by the top supervisor `chief` (authenticated without a session):
#   1 the user's unit, read once to scope the tasks (tracker.access)
#   3 today's figures from the maintained tallies (tracker.figures.rollups): the tallies
#     (with today's 回头看 counts), this month's lit tasks, the tasks seen only through a
#     supporting unit; as of a past day: 1, the aggregate over the tasks, grouped
#   1 the labels of the groups, for inspections and units only
#  (+1 the unit named in ?unit=, when filtering by unit)
CASES = [
    ({"group_by": "total"}, 4, lambda n: 1),
    ({"group_by": "inspection"}, 5, lambda n: n),
    ({"group_by": "kind"}, 4, lambda n: min(n, len(KINDS))),
    ({"group_by": "unit"}, 5, lambda n: n + 1),  # the city and its n units
    ({"group_by": "aspect"}, 4, lambda n: n),
    ({"group_by": "month"}, 4, lambda n: n),
    ({"group_by": "unit", "tree": "true"}, 5, lambda n: 1),  # one top: the city
    ({"group_by": "unit", "unit": "CITY"}, 6, lambda n: n + 1),
    ({"group_by": "inspection", "as_of": "2026-06-30"}, 3, lambda n: n),
    ({"group_by": "unit", "as_of": "2026-06-30"}, 3, lambda n: n + 1),
]


@pytest.mark.parametrize(("params", "queries", "rows"), CASES)
def test_query_count_is_the_same_for_3_and_300_groups(
    params, queries, rows, city, chief, django_assert_num_queries
):
    params = {k: (city.pk if v == "CITY" else v) for k, v in params.items()}

    def request(n):
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=chief.pk))  # nothing cached
        # The process's working-day calendar is read once (two statements) by whichever request
        # comes first; read it here, so that the count is the request's own whatever ran before.
        workdays.is_workday(timezone.localdate())
        with django_assert_num_queries(queries):
            response = client.get("/api/v1/rollups/", params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["rows"]) == rows(n)
        # Every task has one due 回头看 (none as of a past day: not kept then).
        assert body["total"]["recheck_due"] == (0 if "as_of" in params else n)

    add_slices(city, 0, 3)
    request(3)
    add_slices(city, 3, 300)
    request(300)
