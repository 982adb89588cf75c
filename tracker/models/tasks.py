import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from tracker.models.rechecks import Effectiveness
from tracker.storage import get_private_storage


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未启动"
    IN_PROGRESS = "in_progress", "整改中"
    SUBMITTED = "submitted", "已提交待审核"
    COMPLETED = "completed", "已完成整改（已销号）"
    BASICALLY_COMPLETED = "basically_completed", "基本完成整改"
    LONG_TERM = "long_term", "长期坚持"


# Statuses in which a task still needs work from its unit and is chased by the scheduler.
OPEN_STATUSES = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.SUBMITTED)
# Statuses that never become overdue (DOMAIN: overdue = deadline passed and not completed,
# nor long term).
CLOSED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.LONG_TERM)
# Statuses that carry a completion timestamp: the unit says the work is done.
DONE_STATUSES = (TaskStatus.SUBMITTED, TaskStatus.COMPLETED, TaskStatus.BASICALLY_COMPLETED)


def page_rank() -> models.Case:
    """The first key of 我的任务's order (tracker.web.selectors.task_list_for_page): 0 an open
    task with a deadline, 1 an open task without one, 2 a closed task. One expression for the
    query and for the index behind it (Task.Meta `task_page_order`): PostgreSQL uses an
    expression index only for exactly the expression it was built on."""
    return models.Case(
        models.When(status__in=[s.value for s in CLOSED_STATUSES], then=models.Value(2)),
        models.When(deadline__isnull=True, then=models.Value(1)),
        default=models.Value(0),
        output_field=models.IntegerField(),
    )


class TaskType(models.TextChoices):
    IMMEDIATE = "immediate", "立行立改"
    BY_DEADLINE = "by_deadline", "限期整改"
    LONG_TERM = "long_term", "长期坚持"


class TaskPriority(models.IntegerChoices):
    """A task's priority (优先级), as supervision offices grade their ledgers; ordered, so the
    most pressing sort first (docs/priority.md)."""

    NORMAL = 1, "一般"
    ELEVATED = 2, "较高"
    HIGH = 3, "高"
    URGENT = 4, "紧急"


class TaskQuerySet(models.QuerySet):
    # Overdue is decided by tracker.deadlines (imported here late: it imports this module).

    def overdue(self, today: dt.date) -> "TaskQuerySet":
        from tracker.deadlines import overdue_q

        return self.filter(overdue_q(today))

    def not_overdue(self, today: dt.date) -> "TaskQuerySet":
        from tracker.deadlines import not_overdue_q

        return self.filter(not_overdue_q(today))


_STATUS_LABELS = {value: str(label) for value, label in TaskStatus.choices}
_TASK_TYPE_LABELS = {value: str(label) for value, label in TaskType.choices}


class Task(models.Model):
    """A rectification task (整改任务): one measure for a problem, owned by a lead unit.

    Status changes only through tracker.services.tasks; `version` is bumped by every write so
    that a client holding an old copy is refused instead of overwriting someone else's change.
    """

    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name="巡视巡察",
        on_delete=models.PROTECT,
        related_name="tasks",
        # Kept on the task (always the problem's inspection) so that rollups and filters by
        # inspection need no join through problems.
        editable=False,
    )
    problem = models.ForeignKey(
        "tracker.Problem", verbose_name="反馈问题", on_delete=models.PROTECT, related_name="tasks"
    )
    title = models.CharField("任务名称", max_length=300)
    measures = models.TextField("整改措施", blank=True)
    task_type = models.CharField(
        "整改类型", max_length=20, choices=TaskType.choices, default=TaskType.BY_DEADLINE
    )
    lead_unit = models.ForeignKey(
        "tracker.Unit", verbose_name="牵头单位", on_delete=models.PROTECT, related_name="led_tasks"
    )
    supporting_units = models.ManyToManyField(
        "tracker.Unit", verbose_name="配合单位", blank=True, related_name="supported_tasks"
    )
    responsible_leader = models.CharField("责任领导", max_length=100, blank=True)
    responsible_person = models.CharField("责任人", max_length=100, blank=True)
    deadline = models.DateField("完成时限", null=True, blank=True)
    # 重点任务 and the priority: set at creation or by a supervisor of the lead unit through
    # tracker.services.priority.task_set_priority (history row 调整优先级), never by an officer.
    is_key = models.BooleanField("重点任务", default=False, editable=False)
    priority = models.PositiveSmallIntegerField(
        "优先级", choices=TaskPriority.choices, default=TaskPriority.NORMAL, editable=False
    )
    original_deadline = models.DateField("原定完成时限", null=True, blank=True, editable=False)
    status = models.CharField(
        "状态",
        max_length=30,
        choices=TaskStatus.choices,
        default=TaskStatus.NOT_STARTED,
        editable=False,
    )
    # The percent of the latest progress report that gave one; None while nobody has
    # reported a percent (shown as nothing, never as 0%).
    progress_percent = models.PositiveSmallIntegerField(
        "进度（%）", null=True, blank=True, default=None, editable=False
    )
    started_at = models.DateTimeField("启动时间", null=True, blank=True, editable=False)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True, editable=False)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True, editable=False)
    # 签收 (docs/acknowledgement.md): a new assignment (created, moved to another lead unit,
    # sent back) waits for the lead unit to acknowledge it. `ack_requested_at` is when the
    # current round began (None: nothing awaited); acknowledging clears it and records who
    # and when. Written only by tracker.services.tasks.
    ack_requested_at = models.DateTimeField("待签收起始时间", null=True, blank=True,
                                            editable=False)
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True, editable=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签收人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    # Recorded at 销号 (tracker.services.tasks.task_close); the last closure's. Nullable only so
    # that adding them never rebuilds the task table (SQLite would, under its triggers): the
    # services write "" for nothing recorded.
    effectiveness = models.CharField(  # noqa: DJ001
        "整改成效", max_length=20, null=True, blank=True, editable=False,
        choices=Effectiveness.choices,
    )
    root_cause = models.TextField(  # noqa: DJ001
        "原因分析", null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = "整改任务"
        verbose_name_plural = "整改任务"
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["inspection", "status"], name="task_inspection_status"),
            models.Index(fields=["lead_unit", "status"], name="task_lead_unit_status"),
            # Rollups of one unit's subtree (tracker.figures.rollups): every column the
            # aggregate reads, so PostgreSQL answers from the index alone (index-only scan).
            models.Index(
                fields=["lead_unit", "status", "deadline"],
                include=["closed_at"],
                name="task_rollup_unit_cover",
            ),
            models.Index(
                fields=["deadline"],
                name="task_open_deadline",
                condition=models.Q(status__in=["not_started", "in_progress", "submitted"]),
            ),
            # The tasks with a light (tracker.deadlines.has_light_q, the same condition): the
            # rollups read this month's overdue and due-soon tasks through it (TaskTally), and
            # the overdue list walks it in order (deadline, id) and stops at the page's end.
            models.Index(
                fields=["deadline", "id"],
                name="task_lit_deadline",
                condition=models.Q(deadline__isnull=False)
                & ~models.Q(status__in=[status.value for status in CLOSED_STATUSES]),
            ),
            # 我的任务 in its order (rank, deadline, id): the first page is the first rows of
            # this index, whatever the size of the ledger.
            models.Index(page_rank(), "deadline", "id", name="task_page_order"),
            # The key tasks (重点任务, a small share of the ledger): the dashboard's panel and
            # the list filtered to them read this partial index in deadline order.
            models.Index(
                fields=["deadline", "id"], name="task_key_deadline",
                condition=models.Q(is_key=True),
            ),
            # 挂图作战's key panel: its counts and its "most pressing" list (priority first,
            # then deadline) read only this index, never the table's heap.
            models.Index(
                fields=["-priority", "deadline", "id"], name="task_key_cover",
                include=["status", "lead_unit"], condition=models.Q(is_key=True),
            ),
            models.Index(fields=["priority", "deadline"], name="task_priority_deadline"),
            # The acknowledgement sweep reads only the tasks awaiting 签收 (few at any time).
            models.Index(
                fields=["ack_requested_at"],
                name="task_awaiting_ack",
                condition=models.Q(ack_requested_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=TaskStatus.values), name="task_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(task_type__in=TaskType.values), name="task_type_valid"
            ),
            # 销号 is exactly the completed status: a closure time without it, or the status
            # without a closure time, would make the ledger and its rollups disagree.
            models.CheckConstraint(
                condition=(
                    models.Q(status=TaskStatus.COMPLETED, closed_at__isnull=False)
                    | (~models.Q(status=TaskStatus.COMPLETED) & models.Q(closed_at__isnull=True))
                ),
                name="task_closed_at_iff_completed",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=DONE_STATUSES, completed_at__isnull=False)
                    | (~models.Q(status__in=DONE_STATUSES) & models.Q(completed_at__isnull=True))
                ),
                name="task_completed_at_iff_done",
            ),
            models.CheckConstraint(
                condition=models.Q(deadline__isnull=False)
                | models.Q(task_type=TaskType.LONG_TERM),
                name="task_deadline_required_unless_long_term",
            ),
            models.CheckConstraint(
                condition=models.Q(original_deadline__isnull=True)
                | models.Q(deadline__isnull=False),
                name="task_original_deadline_implies_deadline",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="task_version_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="task_progress_percent_max"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=TaskPriority.values), name="task_priority_valid"
            ),
            # Awaiting 签收 and acknowledged are exclusive: a new round clears the last 签收.
            models.CheckConstraint(
                condition=models.Q(ack_requested_at__isnull=True)
                | models.Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True),
                name="task_ack_awaiting_xor_acknowledged",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # Django's generated get_<field>_display rebuilds a hashable copy of the field's choices
    # on every call (make_hashable); on a list of 50 tasks that was about half of the API
    # serializer's time. These read one dict built once, with the same answer: the choice's
    # label, or the stored value itself when it is not a choice.
    def get_status_display(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    def get_task_type_display(self) -> str:
        return _TASK_TYPE_LABELS.get(self.task_type, self.task_type)

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())

    @property
    def awaiting_ack(self) -> bool:
        """待签收: the lead unit has not yet acknowledged the current assignment."""
        return self.ack_requested_at is not None

    def is_overdue_on(self, today: dt.date) -> bool:
        from tracker.deadlines import is_overdue

        return is_overdue(self.status, self.deadline, today)


class TaskAction(models.TextChoices):
    CREATE = "create", "创建任务"
    START = "start", "启动整改"
    PROGRESS = "progress", "填报进展"
    SUBMIT = "submit", "提交销号"
    CLOSE = "close", "审核销号"
    SEND_BACK = "send_back", "退回整改"
    MARK_BASICALLY_COMPLETED = "mark_basically_completed", "认定基本完成"
    MARK_LONG_TERM = "mark_long_term", "转为长期坚持"
    REOPEN = "reopen", "重新打开"
    EXTEND_DEADLINE = "extend_deadline", "延期"
    EDIT = "edit", "修改任务"
    # Supervision notices (督办单): recorded on each task, the status stays as it was.
    NOTICE_ISSUE = "notice_issue", "下发督办单"
    NOTICE_REPLY = "notice_reply", "回复督办单"
    # 重点任务 and priority (docs/priority.md): the status stays; data has from/to of each.
    SET_PRIORITY = "set_priority", "调整优先级"
    # 回头看 (tracker.services.rechecks): recorded on the task; a failed one then reopens it.
    RECHECK_DUE = "recheck_due", "回头看到期"
    RECHECK_REPORT = "recheck_report", "报告回头看"
    RECHECK_CONFIRM = "recheck_confirm", "确认回头看"
    RECHECK_FAIL = "recheck_fail", "回头看未通过"
    # 签收: the lead unit acknowledges a new assignment; the status stays as it was.
    ACKNOWLEDGE = "acknowledge", "签收"


# The actions that may move a task's deadline (the others never carry deadline columns).
DEADLINE_MOVES = (TaskAction.EXTEND_DEADLINE, TaskAction.EDIT)


class TaskEvent(models.Model):
    """One immutable history row per state change: who, when, from, to, note.

    It is the audit trail, the source of as-of rollups and the trigger for notifications.
    Written only by tracker.services.history.record_event. A deadline move (an approved
    extension, an edit of the deadline) is in `deadline_from` → `deadline_to`; `data` keeps
    the other details (the extension's id, the other edited fields, the progress percent).
    """

    task = models.ForeignKey(
        Task, verbose_name="整改任务", on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", db_index=True)
    action = models.CharField("操作", max_length=30, choices=TaskAction.choices)
    from_status = models.CharField(
        "原状态", max_length=30, choices=TaskStatus.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=30, choices=TaskStatus.choices)
    note = models.TextField("说明", blank=True)
    deadline_from = models.DateField("原完成时限", null=True, blank=True)
    deadline_to = models.DateField("新完成时限", null=True, blank=True)
    data = models.JSONField("附加信息", default=dict, blank=True)
    # A change of hands (an edit of the lead unit): typed, because the figures read it. 考评
    # counts a task under the unit that led it at the period's end (tracker.figures.as_of.
    # lead_unit_as_of), which is the `lead_unit_from` of the first move after that moment.
    # No FK index: nothing looks events up by unit, and a unit with history is never deleted
    # (PROTECT); the partial index below serves the per-task look-up.
    lead_unit_from = models.ForeignKey(
        "tracker.Unit", verbose_name="原牵头单位", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", db_index=False,
    )
    lead_unit_to = models.ForeignKey(
        "tracker.Unit", verbose_name="新牵头单位", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", db_index=False,
    )

    class Meta:
        verbose_name = "任务历史"
        verbose_name_plural = "任务历史"
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["task", "at"], name="taskevent_task_at"),
            # The as-of rollup (tracker.figures.as_of): each task's events newest first, the
            # order its one windowed pass reads them in, so the database need not sort.
            models.Index(fields=["task", "-at", "-id"], name="taskevent_task_newest_first"),
            # Moves of the lead unit are rare: the as-of look-up reads only them.
            models.Index(fields=["task", "at"], condition=models.Q(lead_unit_from__isnull=False),
                         name="taskevent_lead_unit_moves"),
        ]
        constraints = [
            # A deadline once set is never removed: every move lands on a date.
            models.CheckConstraint(
                condition=models.Q(deadline_from__isnull=True)
                | models.Q(deadline_to__isnull=False),
                name="taskevent_deadline_move_lands_on_a_date",
            ),
            models.CheckConstraint(
                condition=models.Q(deadline_to__isnull=True)
                | models.Q(action__in=DEADLINE_MOVES),
                name="taskevent_deadline_only_on_moves",
            ),
            models.CheckConstraint(
                condition=~models.Q(action=TaskAction.EXTEND_DEADLINE)
                | models.Q(deadline_from__isnull=False, deadline_to__isnull=False),
                name="taskevent_extension_moves_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # History is append-only; a correction is a new row, never an edit.
        if not self._state.adding:
            raise ValueError("任务历史不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("任务历史不可删除")


class ProgressReport(models.Model):
    """A progress note (整改进展) written by the unit; immutable once written."""

    task = models.ForeignKey(
        Task, verbose_name="整改任务", on_delete=models.PROTECT, related_name="progress_reports"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("进展情况")
    percent = models.PositiveSmallIntegerField("完成进度（%）", null=True, blank=True)
    created_at = models.DateTimeField("填报时间")

    class Meta:
        verbose_name = "整改进展"
        verbose_name_plural = "整改进展"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent__isnull=True) | models.Q(percent__lte=100),
                name="progress_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(note=""), name="progress_note_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.created_at:%Y-%m-%d}"


def evidence_upload_to(instance: "Evidence", filename: str) -> str:
    # The stored name never reuses the uploader's file name, which may hold anything.
    return f"evidence/{instance.task_id}/{instance.sha256[:16]}{_extension(filename)}"


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot != -1 else ""


class Evidence(models.Model):
    """A supporting document (佐证材料). Stored privately; downloads are permission-checked."""

    task = models.ForeignKey(
        Task, verbose_name="整改任务", on_delete=models.PROTECT, related_name="evidence"
    )
    progress_report = models.ForeignKey(
        ProgressReport,
        verbose_name="所属进展",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    # A file sent with a 回头看 report (docs/rechecks.md): the only way a closed task takes
    # evidence (tracker.services.evidence.evidence_add).
    recheck = models.ForeignKey(
        "tracker.TaskRecheck",
        verbose_name="所属回头看",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    file = models.FileField("文件", upload_to=evidence_upload_to, storage=get_private_storage)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="evidence_not_empty"),
            models.UniqueConstraint(
                fields=["task", "sha256"], name="evidence_unique_file_per_task"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class DeadlineExtension(models.Model):
    """A request to move a task's deadline (延期), approved or rejected by a supervisor.

    Approved rows, with the task's original deadline, are every deadline the task ever had.
    """

    task = models.ForeignKey(
        Task, verbose_name="整改任务", on_delete=models.PROTECT, related_name="extensions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间")
    previous_deadline = models.DateField("原完成时限")
    requested_deadline = models.DateField("申请延至")
    reason = models.TextField("延期理由")
    status = models.CharField(
        "审批状态", max_length=20, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requested_deadline__gt=models.F("previous_deadline")),
                name="extension_moves_deadline_later",
            ),
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status="pending"),
                name="extension_one_pending_per_task",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                    | (
                        ~models.Q(status="pending")
                        & models.Q(decided_at__isnull=False, decided_by__isnull=False)
                    )
                ),
                name="extension_decided_iff_not_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="extension_reason_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.previous_deadline} → {self.requested_deadline}"
