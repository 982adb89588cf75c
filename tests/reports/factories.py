"""Factories and ledger builders for the rollup tests."""

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from reports.models import RollupSnapshot
from tests.tracker.factories import TaskFactory, UserFactory
from tracker.models import Problem, TaskStatus, Unit


class RollupSnapshotFactory(DjangoModelFactory):
    class Meta:
        model = RollupSnapshot

    name = factory.Sequence(lambda n: f"第{n}期报送数据")
    group_by = "total"
    as_of = dt.date(2026, 3, 31)
    params = factory.LazyFunction(dict)
    rows = factory.LazyFunction(list)
    total = factory.LazyFunction(dict)
    created_by = factory.SubFactory(UserFactory, supervisor=True)
    created_at = factory.LazyFunction(timezone.now)


def make_tasks(
    counts: dict[TaskStatus, int], *, problem: Problem, lead_unit: Unit, deadline: dt.date | None,
    **extra,
) -> list:
    """`counts[status]` tasks in each status under one problem, lead unit and deadline."""
    tasks = []
    for status, n in counts.items():
        for _ in range(n):
            tasks.append(
                TaskFactory(
                    problem=problem, lead_unit=lead_unit, deadline=deadline, status=status,
                    **extra,
                )
            )
    return tasks
