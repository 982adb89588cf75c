"""factory-boy factories for the reports models, and ledger builders for the rollup tests."""

import datetime as dt

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from reports.models import (
    ExtractedFigure,
    ExtractedItem,
    FigureKind,
    ItemKind,
    ReportImport,
    RollupSnapshot,
    SourceReport,
)
from tests.tracker.factories import TaskFactory, UserFactory
from tracker.models import Problem, TaskStatus, Unit


class SourceReportFactory(DjangoModelFactory):
    class Meta:
        model = SourceReport

    original_name = factory.Sequence(lambda n: f"工作汇报{n}.txt")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    text = "江屿市整改工作情况汇报\n省委巡视组反馈的30项整改任务已完成20项。"
    file = factory.LazyAttribute(lambda r: ContentFile(r.text.encode(), name=r.original_name))
    size = factory.LazyAttribute(lambda r: len(r.text.encode()))
    format = "txt"
    encoding = "utf-8"
    title = "江屿市整改工作情况汇报"
    imported_at = factory.LazyFunction(timezone.now)


class ReportImportFactory(DjangoModelFactory):
    """An upload waiting for the worker (reports.services.report_import_submit makes real
    ones; this one is for tests that need a row)."""

    class Meta:
        model = ReportImport

    user = factory.SubFactory(UserFactory, supervisor=True)
    original_name = factory.Sequence(lambda n: f"上传汇报{n}.txt")
    file = factory.LazyAttribute(
        lambda j: ContentFile("江屿市整改工作情况汇报。".encode(), name=j.original_name)
    )
    size = factory.LazyAttribute(lambda j: len("江屿市整改工作情况汇报。".encode()))
    created_at = factory.LazyFunction(timezone.now)


class ExtractedFigureFactory(DjangoModelFactory):
    class Meta:
        model = ExtractedFigure

    report = factory.SubFactory(SourceReportFactory)
    kind = FigureKind.PROGRESS
    body = "省委巡视组"
    counting_word = "项"
    total = 30
    completed = 20
    quote = "省委巡视组反馈的30项整改任务已完成20项"
    start = 12
    end = 33


class ExtractedItemFactory(DjangoModelFactory):
    class Meta:
        model = ExtractedItem

    report = factory.SubFactory(SourceReportFactory)
    kind = ItemKind.PROBLEM
    position = factory.Sequence(lambda n: n + 1)
    text = "基层监督力量薄弱，发现问题能力不足。"
    start = 0
    end = 18


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


def build_reconciliation_ledger(*, actor, lead_unit, inspection=None) -> Problem:
    """Ten tasks created on 2026-05-01 through the services (so as-of figures exist); by
    05-05 six are closed and one is basically completed. Returns their problem."""
    from tests.tracker.factories import ProblemFactory
    from tracker.services import tasks as task_services

    local = dt.timezone(dt.timedelta(hours=8))

    def at(day: int) -> dt.datetime:
        return dt.datetime(2026, 5, day, 10, tzinfo=local)

    problem = ProblemFactory(**({"inspection": inspection} if inspection else {}))
    tasks = [
        task_services.task_create(problem=problem, actor=actor, title=f"任务{i}",
                                  lead_unit=lead_unit, deadline=dt.date(2026, 6, 30), now=at(1))
        for i in range(10)
    ]
    for task in tasks[:6]:
        task_services.task_start(task=task, actor=actor, now=at(2))
        task_services.task_submit(task=task, actor=actor, now=at(3))
        task_services.task_close(task=task, actor=actor, now=at(5))
    task_services.task_start(task=tasks[6], actor=actor, now=at(2))
    task_services.task_mark_basically_completed(task=tasks[6], actor=actor, now=at(4))
    return problem
