"""factory-boy factories for every tracker model.

TaskFactory builds a task directly in any status with consistent timestamps (for setting up
ledgers); tests of the life cycle itself move tasks through the services instead.
"""

import datetime as dt

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from tracker.models import (
    NO_DEADLINE_MONTH,
    ApiToken,
    AuditAction,
    AuditEntry,
    Channel,
    CommentKind,
    CommentMention,
    DeadlineExtension,
    Delivery,
    DeliveryStatus,
    DispatchRequest,
    EventNotice,
    EventTally,
    EventType,
    Evidence,
    ExtensionStatus,
    HolidayKind,
    HolidayOverride,
    Inspection,
    InspectionKind,
    LoginFailure,
    NoticeColour,
    NoticeSequence,
    Notification,
    NotificationKind,
    NotificationPreference,
    Problem,
    ProgressReport,
    Reminder,
    Role,
    SavedFilter,
    ScoringScheme,
    ServiceHeartbeat,
    SupervisionNotice,
    SupervisionNoticeItem,
    TallyPeriod,
    Task,
    TaskAction,
    TaskComment,
    TaskEvent,
    TaskMonthTally,
    TaskRecheck,
    TaskStatus,
    TaskTally,
    TaskType,
    TaskWatcher,
    Unit,
    UnitKind,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WorkdayCalendarGeneration,
)
from tracker.services.auth import api_token_hash
from tracker.services.units import unit_create

DONE = {TaskStatus.SUBMITTED, TaskStatus.COMPLETED, TaskStatus.BASICALLY_COMPLETED}


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = UnitKind.CITY_DEPARTMENT
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Paths are the services' business; build through them so the tree is consistent.
        return unit_create(
            name=kwargs["name"], kind=kwargs["kind"], parent=kwargs.get("parent"),
            short_name=kwargs.get("short_name", ""), sort_order=kwargs.get("sort_order", 0),
        )


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = Role.OFFICER
    unit = factory.SubFactory(UnitFactory)
    password = factory.django.Password("demo-pass-123")

    class Params:
        supervisor = factory.Trait(role=Role.SUPERVISOR, is_staff=True)
        admin = factory.Trait(role=Role.ADMIN, unit=None, is_staff=True, is_superuser=True)


class InspectionFactory(DjangoModelFactory):
    class Meta:
        model = Inspection

    title = factory.Sequence(lambda n: f"测试巡察第{n}轮")
    kind = InspectionKind.CITY_PATROL
    team = "市委第一巡察组"
    target = "测试单位"
    feedback_date = dt.date(2026, 3, 1)
    rectification_deadline = dt.date(2026, 12, 31)


class ProblemFactory(DjangoModelFactory):
    class Meta:
        model = Problem

    inspection = factory.SubFactory(InspectionFactory)
    number = factory.Sequence(lambda n: n + 1)
    aspect = "落实全面从严治党责任方面"
    text = factory.Sequence(lambda n: f"测试反馈问题{n}")


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task
        skip_postgeneration_save = True

    problem = factory.SubFactory(ProblemFactory)
    inspection = factory.SelfAttribute("problem.inspection")
    title = factory.Sequence(lambda n: f"测试整改任务{n}")
    measures = "建立台账，逐项整改，按月报送进展。"
    task_type = TaskType.BY_DEADLINE
    lead_unit = factory.SubFactory(UnitFactory)
    responsible_leader = "王副局长"
    responsible_person = "李科长"
    deadline = dt.date(2026, 12, 31)
    original_deadline = factory.SelfAttribute("deadline")
    status = TaskStatus.NOT_STARTED
    started_at = factory.LazyAttribute(
        lambda t: None if t.status == TaskStatus.NOT_STARTED else timezone.now()
    )
    completed_at = factory.LazyAttribute(lambda t: timezone.now() if t.status in DONE else None)
    closed_at = factory.LazyAttribute(
        lambda t: timezone.now() if t.status == TaskStatus.COMPLETED else None
    )

    @factory.post_generation
    def supporting_units(self, create, extracted, **kwargs):
        if create and extracted:
            self.supporting_units.set(extracted)


class TaskEventFactory(DjangoModelFactory):
    class Meta:
        model = TaskEvent

    task = factory.SubFactory(TaskFactory)
    actor = factory.SubFactory(UserFactory)
    at = factory.LazyFunction(timezone.now)
    action = TaskAction.START
    from_status = TaskStatus.NOT_STARTED
    to_status = TaskStatus.IN_PROGRESS
    note = ""


class ProgressReportFactory(DjangoModelFactory):
    class Meta:
        model = ProgressReport

    task = factory.SubFactory(TaskFactory, status=TaskStatus.IN_PROGRESS)
    author = factory.SubFactory(UserFactory)
    note = "已召开专题会议，制定整改方案。"
    percent = 30
    created_at = factory.LazyFunction(timezone.now)


class EvidenceFactory(DjangoModelFactory):
    class Meta:
        model = Evidence

    task = factory.SubFactory(TaskFactory, status=TaskStatus.IN_PROGRESS)
    file = factory.LazyAttribute(lambda e: ContentFile(e.content, name="证明材料.pdf"))
    original_name = "证明材料.pdf"
    content_type = "application/pdf"
    size = factory.LazyAttribute(lambda e: len(e.content))
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    uploaded_by = factory.SubFactory(UserFactory)
    uploaded_at = factory.LazyFunction(timezone.now)

    class Params:
        content = b"%PDF-1.4 test evidence"


class DeadlineExtensionFactory(DjangoModelFactory):
    class Meta:
        model = DeadlineExtension

    task = factory.SubFactory(TaskFactory, status=TaskStatus.IN_PROGRESS)
    requested_by = factory.SubFactory(UserFactory)
    requested_at = factory.LazyFunction(timezone.now)
    previous_deadline = factory.SelfAttribute("task.deadline")
    requested_deadline = factory.LazyAttribute(
        lambda e: e.previous_deadline + dt.timedelta(days=30)
    )
    reason = "涉及跨部门协调，需延长办理时间。"
    status = ExtensionStatus.PENDING


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    kind = NotificationKind.DIGEST
    recipient_user = factory.SubFactory(UserFactory)
    day = dt.date(2026, 11, 24)
    title = "整改任务提醒"
    body = "您有1项整改任务即将到期。"
    items = factory.LazyFunction(list)
    created_at = factory.LazyFunction(timezone.now)


class ReminderFactory(DjangoModelFactory):
    class Meta:
        model = Reminder

    task = factory.SubFactory(TaskFactory, status=TaskStatus.IN_PROGRESS)
    stage = "before_3"
    level = "yellow"
    deadline = factory.SelfAttribute("task.deadline")
    recipient_user = factory.SubFactory(UserFactory)
    recorded_on = dt.date(2026, 11, 24)
    created_at = factory.LazyFunction(timezone.now)


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    notification = factory.SubFactory(NotificationFactory)
    channel = Channel.EMAIL
    status = DeliveryStatus.PENDING
    created_at = factory.LazyFunction(timezone.now)


class EventNoticeFactory(DjangoModelFactory):
    class Meta:
        model = EventNotice

    event = EventType.SENT_BACK
    key = factory.Sequence(lambda n: f"task_event:{n}")
    task = factory.SubFactory(TaskFactory, status=TaskStatus.IN_PROGRESS)
    recipient_user = factory.SubFactory(UserFactory)
    text = "督导人员退回整改，请按退回理由继续整改后重新提交"
    note = "佐证材料不全"
    created_at = factory.LazyFunction(timezone.now)


class NotificationPreferenceFactory(DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)


class DispatchRequestFactory(DjangoModelFactory):
    class Meta:
        model = DispatchRequest

    unit = factory.SubFactory(UnitFactory)
    month = dt.date(2026, 11, 1)
    report_by = dt.date(2026, 11, 30)
    open_tasks = 3
    created_at = factory.LazyFunction(timezone.now)


class LoginFailureFactory(DjangoModelFactory):
    class Meta:
        model = LoginFailure

    key = factory.Sequence(lambda n: f"account:user{n}@127.0.0.1")
    failures = 1
    window_started_at = factory.LazyFunction(timezone.now)


class ApiTokenFactory(DjangoModelFactory):
    """A live token; its raw key is f"test-key-{n}" (tests that sign in with a token issue
    one through tracker.services.auth.api_token_issue instead)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"脚本{n}")
    key_hash = factory.Sequence(lambda n: api_token_hash(f"test-key-{n}"))
    prefix = factory.Sequence(lambda n: f"test-{n}"[:8])
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(days=90))


class HolidayOverrideFactory(DjangoModelFactory):
    """A row as the services write it; tests of the calendar go through the services so that
    the working-day cache is invalidated."""

    class Meta:
        model = HolidayOverride
        django_get_or_create = ["date"]

    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(days=n))
    kind = HolidayKind.HOLIDAY
    name = "元旦"


class WorkdayCalendarGenerationFactory(DjangoModelFactory):
    class Meta:
        model = WorkdayCalendarGeneration
        django_get_or_create = ["id"]

    id = 1
    generation = 1


class SavedFilterFactory(DjangoModelFactory):
    class Meta:
        model = SavedFilter

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"常用筛选{n}")
    query = "status=in_progress"


class ServiceHeartbeatFactory(DjangoModelFactory):
    class Meta:
        model = ServiceHeartbeat
        django_get_or_create = ("name",)

    name = "scheduler"
    seen_at = factory.LazyFunction(timezone.now)


class LedgerJobFactory(DjangoModelFactory):
    """A ledger import waiting for its preview (tests of the flow go through the services)."""

    class Meta:
        model = "tracker.LedgerJob"

    kind = "import"
    user = factory.SubFactory(UserFactory)
    inspection = factory.SubFactory(InspectionFactory)
    state = "queued"
    source_name = "台账.xlsx"
    created_at = factory.LazyFunction(timezone.now)


class AuditEntryFactory(DjangoModelFactory):
    """An audit entry as tracker.services.audit.audit_record writes it (a login by default)."""

    class Meta:
        model = AuditEntry

    at = factory.LazyFunction(timezone.now)
    actor = factory.SubFactory(UserFactory)
    actor_name = factory.LazyAttribute(lambda e: e.actor.username if e.actor else "")
    action = AuditAction.LOGIN
    target_type = "tracker.user"
    target_id = factory.LazyAttribute(lambda e: e.actor.pk if e.actor else None)
    target_label = factory.Sequence(lambda n: f"审计对象{n}")
    address = "10.0.0.1"


class WebhookEndpointFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"内部系统{n}")
    url = factory.Sequence(lambda n: f"http://oa.example.internal/hooks/{n}")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    task_event = factory.SubFactory(TaskEventFactory)
    event = WebhookEvent.CHANGED
    payload = factory.LazyAttribute(lambda d: {"event": d.event, "event_id": d.task_event.pk})
    attempt_limit = 8
    created_at = factory.LazyFunction(timezone.now)


class NoticeSequenceFactory(DjangoModelFactory):
    class Meta:
        model = NoticeSequence
        django_get_or_create = ("year",)

    year = factory.Sequence(lambda n: 2100 + n)
    last = 0


class SupervisionNoticeFactory(DjangoModelFactory):
    """A notice row as stored (numbers by sequence); tests of issuing go through
    tracker.services.notices.notice_issue."""

    class Meta:
        model = SupervisionNotice

    year = 2026
    sequence = factory.Sequence(lambda n: 1000 + n)
    colour = NoticeColour.YELLOW
    reason = "整改进度明显滞后，请加快推进。"
    requirements = "请逐项说明整改进展和下步措施。"
    reply_by = dt.date(2026, 7, 10)
    issued_by = factory.SubFactory(UserFactory, supervisor=True)
    issued_at = factory.LazyFunction(timezone.now)


class SupervisionNoticeItemFactory(DjangoModelFactory):
    class Meta:
        model = SupervisionNoticeItem

    notice = factory.SubFactory(SupervisionNoticeFactory)
    task = factory.SubFactory(TaskFactory, status=TaskStatus.IN_PROGRESS)
    unit = factory.SelfAttribute("task.lead_unit")


class TaskCommentFactory(DjangoModelFactory):
    class Meta:
        model = TaskComment

    task = factory.SubFactory(TaskFactory)
    author = factory.SubFactory(UserFactory)
    kind = CommentKind.COMMENT
    body = factory.Sequence(lambda n: f"请抓紧推进第{n}项整改措施")
    created_at = factory.LazyFunction(timezone.now)


class CommentMentionFactory(DjangoModelFactory):
    class Meta:
        model = CommentMention

    comment = factory.SubFactory(TaskCommentFactory)
    user = factory.SubFactory(UserFactory)


class TaskWatcherFactory(DjangoModelFactory):
    class Meta:
        model = TaskWatcher

    task = factory.SubFactory(TaskFactory)
    user = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)


class TaskTallyFactory(DjangoModelFactory):
    """Tallies are written by the database's triggers only (migration 0013): the factory
    creates a task and answers the row its trigger counted it in."""

    class Meta:
        model = TaskTally

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        task = TaskFactory(**kwargs)
        key = {
            "lead_unit": task.lead_unit,
            "inspection": task.inspection,
            "deadline_month": task.deadline.replace(day=1) if task.deadline else NO_DEADLINE_MONTH,
        }
        if model_class is TaskTally:  # the month table's key has no aspect
            key["aspect"] = task.problem.aspect
        return model_class.objects.get(**key)


class TaskMonthTallyFactory(TaskTallyFactory):
    """The same, for the counts without the aspect (migration 0032)."""

    class Meta:
        model = TaskMonthTally


class EventTallyFactory(DjangoModelFactory):
    """History counts are written by the database's triggers only (migration 0014): the
    factory writes a history row and answers the month's count it was added to."""

    class Meta:
        model = EventTally

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        event = TaskEventFactory(action=TaskAction.CREATE, from_status="",
                                 to_status=TaskStatus.NOT_STARTED, **kwargs)
        return model_class.objects.get(
            lead_unit=event.task.lead_unit, inspection=event.task.inspection,
            period=TallyPeriod.MONTH,
        )


class ScoringSchemeFactory(DjangoModelFactory):
    """A scoring scheme (考评方案) with the default weights, one effective day each."""

    class Meta:
        model = ScoringScheme

    name = factory.Sequence(lambda n: f"考评方案{n}")
    effective_from = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
def _recheck_past(*states: str):
    return factory.LazyAttribute(lambda o: o.state not in states)


class TaskRecheckFactory(DjangoModelFactory):
    """A 回头看 as a closure schedules it (tests of the states go through
    tracker.services.rechecks); with `state=` a later state, its report and decision filled
    in as the model's constraints ask."""

    class Meta:
        model = TaskRecheck

    class Params:
        reported = _recheck_past("scheduled", "due")
        decided = _recheck_past("scheduled", "due", "reported")

    task = factory.SubFactory(TaskFactory, status=TaskStatus.COMPLETED)
    state = "scheduled"
    due_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=180))
    scheduled_at = factory.LazyFunction(timezone.now)
    became_due_at = factory.Maybe(_recheck_past("scheduled"), factory.LazyFunction(timezone.now))
    recurred = factory.Maybe("reported", False, None)
    reported_at = factory.Maybe("reported", factory.LazyFunction(timezone.now), None)
    reported_by = factory.Maybe("reported", factory.SubFactory(UserFactory), None)
    decided_at = factory.Maybe("decided", factory.LazyFunction(timezone.now), None)
    decided_by = factory.Maybe("decided", factory.SubFactory(UserFactory), None)
