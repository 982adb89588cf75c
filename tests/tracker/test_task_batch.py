"""tasks_create_batch (an Excel ledger's new rows at once) writes what task_create and the
transition services write row by row: tasks, supporting units, history, progress reports,
回头看, webhook deliveries, notices and the maintained counts; in a number of statements that
does not grow with the tasks; and one refused task refuses all."""

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.tracker.factories import (
    InspectionFactory,
    NotificationPreferenceFactory,
    ProblemFactory,
    UnitFactory,
    UserFactory,
    WebhookEndpointFactory,
)
from tracker.errors import ActionForbidden, InvalidInput
from tracker.figures.tallies import tally_check
from tracker.models import (
    DeliveryMode,
    EventNotice,
    Notification,
    ProgressReport,
    Role,
    Task,
    TaskAction,
    TaskEvent,
    TaskPriority,
    TaskRecheck,
    TaskStatus,
    TaskType,
    WebhookDelivery,
)
from tracker.services import tasks as task_services
from tracker.services.ledger import steps_to_status

pytestmark = pytest.mark.django_db

S = TaskStatus
NOW = timezone.make_aware(dt.datetime(2026, 11, 2, 9, 30))
DEADLINE = dt.date(2027, 3, 31)


@pytest.fixture
def people(bureau, county, town, chief, sue, sam, alice, bob):
    """Officers in the units (one who reads a daily digest), supervisors over them."""
    UserFactory(username="alice2", unit=bureau, role=Role.OFFICER)
    digest_reader = UserFactory(username="carol", unit=county, role=Role.OFFICER)
    NotificationPreferenceFactory(user=digest_reader, mode=DeliveryMode.DIGEST)
    WebhookEndpointFactory(on_created=True, on_changed=True, on_closed=True, on_reopened=True)
    WebhookEndpointFactory(on_created=True, on_closed=True, scope_unit=county)
    return chief


def _specs(problems, bureau, county, town, *, copies: int = 1) -> list[task_services.NewTask]:
    """Every status a ledger row can bring, with and without a progress note, led by the
    bureau or the county, some with supporting units, some 重点任务 or urgent."""
    specs = []
    cases = itertools.product(
        [S.NOT_STARTED, S.IN_PROGRESS, S.SUBMITTED, S.COMPLETED, S.BASICALLY_COMPLETED,
         S.LONG_TERM],
        ["", "已完成方案制定"],
        [bureau, county],
    )
    for n, (status, progress, lead) in enumerate(list(cases) * copies):
        long_term = status == S.LONG_TERM and n % 4 == 0
        specs.append(task_services.NewTask(
            problem=problems[n % len(problems)], title=f"批量任务{n}", lead_unit=lead,
            deadline=None if long_term else DEADLINE,
            task_type=TaskType.LONG_TERM if long_term else TaskType.BY_DEADLINE,
            measures=f"措施{n}", responsible_leader="王局长", responsible_person="李科长",
            supporting_units=(town, lead) if n % 3 == 0 else (),
            is_key=n % 5 == 0, priority=TaskPriority.URGENT if n % 7 == 0 else TaskPriority.NORMAL,
            steps=tuple(steps_to_status(status, progress=progress)),
        ))
    return specs


def _one_by_one(specs, *, actor) -> None:
    """The reference: task_create, then each step through its transition service."""
    for spec in specs:
        task = task_services.task_create(
            problem=spec.problem, actor=actor, title=spec.title, lead_unit=spec.lead_unit,
            deadline=spec.deadline, measures=spec.measures, task_type=spec.task_type,
            supporting_units=spec.supporting_units, responsible_leader=spec.responsible_leader,
            responsible_person=spec.responsible_person, is_key=spec.is_key,
            priority=spec.priority, now=NOW,
        )
        for step in spec.steps:
            if step.action == TaskAction.PROGRESS:
                task_services.task_report_progress(task=task, actor=actor, note=step.note,
                                                   now=NOW)
                task.refresh_from_db()
            else:
                service = getattr(task_services, f"task_{step.action.value}")
                task = service(task=task, actor=actor, note=step.note, now=NOW)


def _problems(inspection, count=4):
    return [ProblemFactory(inspection=inspection, number=i + 1, text=f"问题{i + 1}")
            for i in range(count)]


def _written(inspection) -> dict:
    """What was written for the inspection's tasks, in their order, without ids."""
    tasks = list(Task.objects.filter(inspection=inspection).order_by("pk"))
    place = {task.pk: n for n, task in enumerate(tasks)}
    events = list(TaskEvent.objects.filter(task__inspection=inspection).order_by("pk"))
    event_place = {}
    for event in events:
        event_place[event.pk] = (place[event.task_id],
                                 sum(1 for key in event_place.values()
                                     if key[0] == place[event.task_id]))
    skipped = {"id", "inspection", "problem", "created_at", "updated_at"}

    def task_row(task):
        row = {f.attname: getattr(task, f.attname) for f in Task._meta.concrete_fields
               if f.name not in skipped}
        row["problem"] = task.problem.number
        row["supporting"] = sorted(u.name for u in task.supporting_units.all())
        return row

    def payload(delivery):
        body = dict(delivery.payload)
        body.pop("event_id")
        body["task"] = {k: v for k, v in body["task"].items()
                        if k not in ("id", "problem_id", "inspection_id")}
        return body

    return {
        "tasks": [task_row(task) for task in tasks],
        "history": [
            (event_place[e.pk], e.action, e.from_status, e.to_status, e.note, e.data,
             e.actor_id, e.at) for e in events
        ],
        "progress": sorted(
            (place[p.task_id], p.note, p.author_id, p.percent, p.created_at)
            for p in ProgressReport.objects.filter(task__inspection=inspection)
        ),
        "rechecks": sorted(
            (place[r.task_id], r.due_on, r.state, r.scheduled_by_id, r.scheduled_at)
            for r in TaskRecheck.objects.filter(task__inspection=inspection)
        ),
        "notices": sorted(
            (event_place[int(n.key.split(":")[1])], n.event, n.recipient_user_id, n.text,
             n.note, n.created_at)
            for n in EventNotice.objects.filter(task__inspection=inspection)
        ),
        "webhooks": sorted(
            (event_place[d.task_event_id], d.endpoint_id, d.event, str(payload(d)))
            for d in WebhookDelivery.objects.filter(task_event__task__inspection=inspection)
        ),
    }


def test_the_batch_writes_what_the_services_write_one_by_one(people, bureau, county, town):
    chief = people
    by_hand, at_once = InspectionFactory(), InspectionFactory()
    _one_by_one(_specs(_problems(by_hand), bureau, county, town), actor=chief)
    messages_by_hand = Notification.objects.count()

    made = task_services.tasks_create_batch(
        actor=chief, tasks=_specs(_problems(at_once), bureau, county, town), now=NOW
    )

    expected, written = _written(by_hand), _written(at_once)
    assert len(made) == len(written["tasks"]) == 24
    # One difference: a row submitted and closed by the same import asks no one to review it
    # (one by one, the supervisors were asked, then the task was closed at once).
    closed = {n for n, task in enumerate(written["tasks"]) if task["status"] == S.COMPLETED}
    asked_in_vain = [n for n in expected["notices"]
                     if n[1] == "submitted" and n[0][0] in closed]
    assert asked_in_vain
    expected["notices"] = [n for n in expected["notices"] if n not in asked_in_vain]
    for key in expected:
        assert written[key] == expected[key], key
    # Every path was taken: closed tasks have a 回头看, notes made progress reports, the
    # supervisors heard of submissions, both endpoints got deliveries.
    assert {t["status"] for t in written["tasks"]} == set(S.values)
    assert written["rechecks"]
    assert written["progress"]
    assert {n[1] for n in written["notices"]} >= {"assigned", "supporting_assigned",
                                                  "submitted"}
    assert len({w[1] for w in written["webhooks"]}) == 2
    # updated_at (left out above) is the INSERT's clock, as created_at is.
    for created_at, updated_at in Task.objects.filter(inspection=at_once).values_list(
        "created_at", "updated_at"
    ):
        assert abs(updated_at - created_at) < dt.timedelta(seconds=5)
    assert tally_check() == []
    # One message per person told at once (the digest reader waits for the digest), where
    # the services sent one per notice.
    immediate = {n[2] for n in written["notices"]} - {people.pk, UserFactory._meta.model
                                                      .objects.get(username="carol").pk}
    batch_messages = Notification.objects.count() - messages_by_hand
    assert batch_messages == len(immediate) < messages_by_hand


def test_one_message_lists_an_officers_new_tasks(people, bureau, county, town, alice):
    inspection = InspectionFactory()
    specs = [s for s in _specs(_problems(inspection), bureau, county, town)
             if s.lead_unit == bureau]

    task_services.tasks_create_batch(actor=people, tasks=specs, now=NOW)

    (message,) = Notification.objects.filter(recipient_user=alice)
    assert len(message.items) == len(specs)
    assert f"整改任务动态{len(specs)}件" in message.title
    assert "【新交办任务待签收】批量任务0" in message.body
    assert message.deliveries.filter(channel="email").count() == 1


@pytest.mark.postgres
def test_the_batch_costs_the_same_statements_for_three_times_the_tasks(
    people, bureau, county, town
):
    """On PostgreSQL, where production runs (on SQLite Django splits an INSERT into batches of
    999 parameters, so there the count grows by one statement per batch)."""
    small, large = InspectionFactory(), InspectionFactory()
    small_specs = _specs(_problems(small), bureau, county, town)
    large_specs = _specs(_problems(large), bureau, county, town, copies=3)

    with CaptureQueriesContext(connection) as few:
        task_services.tasks_create_batch(actor=people, tasks=small_specs, now=NOW)
    with CaptureQueriesContext(connection) as many:
        task_services.tasks_create_batch(actor=people, tasks=large_specs, now=NOW)

    assert len(large_specs) == 3 * len(small_specs)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_one_refused_task_refuses_the_batch_and_writes_nothing(people, sue, bureau, county,
                                                               town):
    inspection = InspectionFactory()
    problems = _problems(inspection)
    specs = _specs(problems, bureau, county, town)
    bad = task_services.NewTask(problem=problems[0], title="  ", lead_unit=bureau,
                                deadline=DEADLINE)

    with pytest.raises(task_services.TaskBatchRefused) as refused:
        task_services.tasks_create_batch(actor=people, tasks=[*specs, bad], now=NOW)
    assert refused.value.index == len(specs)
    assert isinstance(refused.value.error, InvalidInput)
    assert refused.value.message == "任务名称不能为空"

    # Sue supervises the bureau only: a county task in the batch is refused by its index.
    with pytest.raises(task_services.TaskBatchRefused) as refused:
        task_services.tasks_create_batch(actor=sue, tasks=[specs[2], specs[1]], now=NOW)
    assert refused.value.index == 1
    assert isinstance(refused.value.error, ActionForbidden)
    assert not Task.objects.filter(inspection=inspection).exists()
    assert not TaskEvent.objects.filter(task__inspection=inspection).exists()


def test_a_step_the_rule_refuses_refuses_the_batch(people, bureau, county, town, monkeypatch):
    """Who may act is asked of the transition's own rule (here made to refuse closing)."""
    inspection = InspectionFactory()
    specs = _specs(_problems(inspection), bureau, county, town)
    close = task_services.TRANSITIONS[TaskAction.CLOSE]
    monkeypatch.setitem(task_services.TRANSITIONS, TaskAction.CLOSE,
                        type(close)(close.action, close.sources, close.target,
                                    lambda user, task: False, close.note_required))

    with pytest.raises(task_services.TaskBatchRefused) as refused:
        task_services.tasks_create_batch(actor=people, tasks=specs, now=NOW)

    first_closed = next(n for n, s in enumerate(specs)
                        if any(step.action == TaskAction.CLOSE for step in s.steps))
    assert refused.value.index == first_closed
    assert refused.value.message == "您没有权限对该任务执行“审核销号”"
    assert not Task.objects.filter(inspection=inspection).exists()


def test_a_task_with_the_longest_title_is_still_announced(people, bureau, alice):
    """A title of 300 characters makes a subject longer than a message's title holds: it is
    cut with an ellipsis, the same on every database (PostgreSQL's cast in the UPDATE cut it
    silently, SQLite kept it whole)."""
    problem = _problems(InspectionFactory(), count=1)[0]

    task = task_services.task_create(problem=problem, actor=people, title="长" * 300,
                                     lead_unit=bureau, deadline=DEADLINE, now=NOW)

    (message,) = Notification.objects.filter(recipient_user=alice)
    assert message.items[0]["task_id"] == task.pk
    assert len(message.title) == Notification._meta.get_field("title").max_length
    assert message.title.endswith("…")


def test_a_message_of_many_events_lists_the_first_and_counts_the_rest(
    people, bureau, county, town, alice, settings
):
    """An import's message (and a digest) lists TRACKER_DIGEST_MAX_ITEMS events and counts
    the others, so a large import does not make an endless e-mail."""
    settings.TRACKER_DIGEST_MAX_ITEMS = 3
    inspection = InspectionFactory()
    specs = [s for s in _specs(_problems(inspection), bureau, county, town)
             if s.lead_unit == bureau]

    task_services.tasks_create_batch(actor=people, tasks=specs, now=NOW)

    (message,) = Notification.objects.filter(recipient_user=alice)
    assert len(message.items) == len(specs) == 12
    assert "3. 【" in message.body
    assert "4. 【" not in message.body
    assert f"……另有{len(specs) - 3}件未列出" in message.body


@pytest.mark.postgres
def test_the_batch_costs_the_same_statements_for_three_times_the_lead_units(people, city,
                                                                           town):
    """Who may take each step and who reviews a submission are asked for all the lead units
    at once, not unit by unit."""
    few_units = [UnitFactory(parent=city) for _ in range(2)]
    many_units = [UnitFactory(parent=city) for _ in range(6)]
    for unit in few_units + many_units:
        UserFactory(unit=unit, role=Role.OFFICER)
        UserFactory(unit=unit, supervisor=True)

    def specs(units):
        (problem,) = _problems(InspectionFactory(), count=1)
        return [
            task_services.NewTask(
                problem=problem, title=f"任务{n}",
                lead_unit=units[n % len(units)], deadline=DEADLINE,
                steps=tuple(steps_to_status(status, progress="进展")),
            )
            for n, status in enumerate([S.SUBMITTED, S.COMPLETED, S.IN_PROGRESS] * 4)
        ]

    few_specs, many_specs = specs(few_units), specs(many_units)
    # What is read once a process (the workday calendar behind review deadlines).
    task_services.tasks_create_batch(actor=people, tasks=specs(few_units)[:1], now=NOW)
    with CaptureQueriesContext(connection) as few:
        task_services.tasks_create_batch(actor=people, tasks=few_specs, now=NOW)
    with CaptureQueriesContext(connection) as many:
        task_services.tasks_create_batch(actor=people, tasks=many_specs, now=NOW)

    assert len({s.lead_unit for s in many_specs}) == 3 * len({s.lead_unit for s in few_specs})
    assert len(many.captured_queries) == len(few.captured_queries)
    # Each unit's own supervisor, nearest over it, was asked to review its submissions.
    submitted = EventNotice.objects.filter(event="submitted", task__lead_unit__in=many_units)
    awaiting_review = {s.lead_unit.pk for s in many_specs
                       if s.steps[-1].action == TaskAction.SUBMIT}
    assert len(awaiting_review) > 1
    assert {n.recipient_user.unit_id for n in submitted} == awaiting_review
