"""Serializers only parse and render; every rule lives in the services."""

import datetime as dt

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import (
    InputSerializer,
    InspectionBriefSerializer,
    ProblemBriefSerializer,
    RefuseUnknownFieldsMixin,
    UnitBriefSerializer,
    UserBriefSerializer,
)
from tracker import access
from tracker.deadlines import DeadlineState, deadline_state, deadline_states
from tracker.models import (
    DeadlineExtension,
    Effectiveness,
    Evidence,
    Inspection,
    Problem,
    ProgressReport,
    Role,
    Task,
    TaskEvent,
    TaskPriority,
    Unit,
    User,
)
from tracker.selectors import DEADLINE_SOURCES, TaskRows
from tracker.services.tasks import ACK_BATCH_MAX, DEFAULT_RECHECK, allowed_actions
from tracker.services.tasks import EDITABLE_FIELDS as TASK_EDITABLE_FIELDS

# --- Units and users ----------------------------------------------------------------------


class UnitSerializer(RefuseUnknownFieldsMixin, serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Unit
        fields = [
            "id", "name", "short_name", "kind", "kind_display", "parent", "depth", "sort_order",
        ]
        read_only_fields = ["depth"]
        validators: list = []

    def validate(self, attrs):
        parent = attrs.get("parent", self.instance.parent if self.instance else None)
        name = attrs.get("name", self.instance.name if self.instance else None)
        siblings = Unit.objects.filter(parent=parent, name=name)
        if self.instance is not None:
            siblings = siblings.exclude(pk=self.instance.pk)
        if siblings.exists():
            raise serializers.ValidationError({"name": ["同一上级单位下已有同名单位"]})
        return attrs


class UnitTreeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    kind = serializers.CharField()
    children = serializers.ListField(child=serializers.DictField(), help_text="下级单位（同结构）")


class UserSerializer(serializers.ModelSerializer):
    unit = UnitBriefSerializer(read_only=True, allow_null=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    # May be empty: a plain string in the schema, not format "email" (which "" is not).
    email = serializers.CharField(read_only=True, label="电子邮件地址")

    class Meta:
        model = User
        fields = [
            "id", "username", "full_name", "email", "role", "role_display", "unit",
            "covers_subunits", "supervision_root", "is_active",
        ]
        read_only_fields = fields


class UserCreateSerializer(InputSerializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices)
    # An administrator may have no unit: absent means None (the service takes it as given).
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), allow_null=True, default=None
    )
    full_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    covers_subunits = serializers.BooleanField(required=False, default=False)
    supervision_root = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), allow_null=True, required=False
    )

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username=value).exists():
            raise serializers.ValidationError("该用户名已被使用")
        return value

    def validate(self, attrs):
        if attrs["role"] != Role.ADMIN and attrs.get("unit") is None:
            raise serializers.ValidationError({"unit": "除系统管理员外须指定所在单位"})
        try:
            password_validation.validate_password(
                attrs["password"], User(username=attrs["username"])
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from error
        return attrs


# --- Inspections and problems -------------------------------------------------------------


class InspectionSerializer(RefuseUnknownFieldsMixin, serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    mode_display = serializers.CharField(source="get_mode_display", read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id", "title", "kind", "kind_display", "mode", "mode_display", "team", "target",
            "target_unit", "feedback_date", "rectification_deadline", "created_at",
        ]
        read_only_fields = ["created_at"]


class ProblemSerializer(RefuseUnknownFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Problem
        fields = ["id", "inspection", "aspect", "number", "text"]
        # Number uniqueness within an inspection is checked by the services.
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "inspection" in self.fields:
            self.fields["inspection"].queryset = Inspection.objects.filter(
                access.visible_inspections_q(request.user)
            )


class ProblemUpdateSerializer(ProblemSerializer):
    class Meta(ProblemSerializer.Meta):
        read_only_fields = ["inspection"]


# --- Tasks --------------------------------------------------------------------------------


def _iso_datetime(value: dt.datetime | None, zone) -> str | None:
    """A datetime read from the database (aware: USE_TZ) as DRF's DateTimeField renders it by
    default (ISO 8601, in `zone`, UTC as "Z"), without the field's per-value look-ups; None
    stays None."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class TaskSerializer(serializers.ModelSerializer):
    """A task as lists and the detail show it; needs task_list()'s joins and prefetch."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    task_type_display = serializers.CharField(source="get_task_type_display", read_only=True)
    priority_display = serializers.CharField(source="get_priority_display", read_only=True)
    lead_unit = UnitBriefSerializer(read_only=True)
    supporting_units = UnitBriefSerializer(many=True, read_only=True)
    problem = ProblemBriefSerializer(read_only=True)
    inspection = InspectionBriefSerializer(read_only=True)
    is_overdue = serializers.SerializerMethodField()
    light = serializers.SerializerMethodField(
        help_text="红黄绿灯：red 逾期，yellow 即将到期，green 时限充足，"
        "none 已销号、长期坚持或无时限"
    )
    light_label = serializers.SerializerMethodField()
    days_left_text = serializers.SerializerMethodField(
        help_text="今日到期、剩余N个工作日、已逾期N个工作日等"
    )
    awaiting_ack = serializers.BooleanField(
        read_only=True,
        help_text="待签收：牵头单位尚未签收当前交办（新建、改换牵头单位或退回整改后）",
    )
    ack_requested_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                                 help_text="本轮待签收的起始时间")
    acknowledged_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                                help_text="签收时间")
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.display_name", read_only=True, allow_null=True, default=None,
        help_text="签收人姓名（系统上线前的任务为空）",
    )

    class Meta:
        model = Task
        fields = [
            "id", "title", "measures", "status", "status_display", "task_type",
            "task_type_display", "is_key", "priority", "priority_display",
            "inspection", "problem", "lead_unit", "supporting_units",
            "responsible_leader", "responsible_person", "deadline", "original_deadline",
            "is_overdue", "light", "light_label", "days_left_text", "progress_percent",
            "started_at", "completed_at", "closed_at", "version", "created_at", "updated_at",
            "awaiting_ack", "ack_requested_at", "acknowledged_at", "acknowledged_by",
        ]
        read_only_fields = fields

    # Rendered by to_representation below, in one pass; the declared fields above stay the
    # schema (drf-spectacular) and the meaning of each key.
    _PLAIN = (
        "id", "title", "measures", "status", "task_type", "responsible_leader",
        "responsible_person", "progress_percent", "version", "is_key", "priority",
    )
    _DATES = ("deadline", "original_deadline")
    _DATETIMES = ("started_at", "completed_at", "closed_at", "created_at", "updated_at",
                  "ack_requested_at", "acknowledged_at")

    def to_representation(self, task: Task) -> dict:
        """The same keys and values as the declared fields would give (a test compares the
        two), without DRF's per-field attribute walk: the list renders 50 tasks a page, and
        the generic path spent most of the request there. The deadline's light and wording are
        read once per task from the rule book (tracker.deadlines.deadline_state)."""
        state = self._state(task)
        data = {name: getattr(task, name) for name in self._PLAIN}
        for name in self._DATES:
            value = getattr(task, name)
            data[name] = None if value is None else value.isoformat()
        zone = timezone.get_current_timezone()
        for name in self._DATETIMES:  # DRF's ISO 8601 in the current time zone
            value = getattr(task, name)
            data[name] = _iso_datetime(value, zone)
        unit, problem, inspection = task.lead_unit, task.problem, task.inspection
        data |= {
            "status_display": task.get_status_display(),
            "task_type_display": task.get_task_type_display(),
            "priority_display": task.get_priority_display(),
            "inspection": {"id": inspection.pk, "title": inspection.title,
                           "kind": inspection.kind, "team": inspection.team},
            "problem": {"id": problem.pk, "number": problem.number,
                        "aspect": problem.aspect, "text": problem.text},
            "lead_unit": {"id": unit.pk, "name": unit.name, "short_name": unit.short_name},
            "supporting_units": [
                {"id": u.pk, "name": u.name, "short_name": u.short_name}
                for u in task.supporting_units.all()
            ],
            "is_overdue": state.overdue,
            "light": state.light,
            "light_label": state.light_label,
            "days_left_text": state.text,
            "awaiting_ack": task.awaiting_ack,
            "acknowledged_by": (task.acknowledged_by.display_name
                                if task.acknowledged_by_id is not None else None),
        }
        return {name: data[name] for name in TaskSerializer.Meta.fields}

    def _state(self, task: Task) -> DeadlineState:
        today: dt.date = self.context.get("today") or timezone.localdate()
        return deadline_state(status=task.status, deadline=task.deadline, today=today)

    def get_is_overdue(self, task: Task) -> bool:
        return self._state(task).overdue

    def get_light(self, task: Task) -> str:
        return self._state(task).light

    def get_light_label(self, task: Task) -> str:
        return self._state(task).light_label

    def get_days_left_text(self, task: Task) -> str:
        return self._state(task).text


def task_rows_data(page: TaskRows, *, today: dt.date) -> list[dict]:
    """The task list's page as TaskSerializer renders each task (the same keys, in the same
    order, with the same values: a test compares the two), from the plain row values of
    tracker.selectors.task_rows_page instead of model instances. The lights and the deadline
    wording are the rule book's (tracker.deadlines.deadline_states). Each task is one dict
    literal in TaskSerializer.Meta.fields' order (the test compares the order too)."""
    zone = timezone.get_current_timezone()
    states = deadline_states(((r["status"], r["deadline"]) for r in page.rows), today=today)
    supporting = page.supporting
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "measures": row["measures"],
            "status": row["status"],
            "status_display": row["status_display"],
            "task_type": row["task_type"],
            "task_type_display": row["task_type_display"],
            "is_key": row["is_key"],
            "priority": row["priority"],
            "priority_display": row["priority_display"],
            "inspection": {"id": row["inspection_id"], "title": row["inspection__title"],
                           "kind": row["inspection__kind"], "team": row["inspection__team"]},
            "problem": {"id": row["problem_id"], "number": row["problem__number"],
                        "aspect": row["problem__aspect"], "text": row["problem__text"]},
            "lead_unit": {"id": row["lead_unit_id"], "name": row["lead_unit__name"],
                          "short_name": row["lead_unit__short_name"]},
            "supporting_units": supporting[row["id"]],
            "responsible_leader": row["responsible_leader"],
            "responsible_person": row["responsible_person"],
            "deadline": None if row["deadline"] is None else row["deadline"].isoformat(),
            "original_deadline": (None if row["original_deadline"] is None
                                  else row["original_deadline"].isoformat()),
            "is_overdue": state.overdue,
            "light": state.light,
            "light_label": state.light_label,
            "days_left_text": state.text,
            "progress_percent": row["progress_percent"],
            "started_at": _iso_datetime(row["started_at"], zone),
            "completed_at": _iso_datetime(row["completed_at"], zone),
            "closed_at": _iso_datetime(row["closed_at"], zone),
            "version": row["version"],
            "created_at": _iso_datetime(row["created_at"], zone),
            "updated_at": _iso_datetime(row["updated_at"], zone),
            "awaiting_ack": row["awaiting_ack"],
            "ack_requested_at": _iso_datetime(row["ack_requested_at"], zone),
            "acknowledged_at": _iso_datetime(row["acknowledged_at"], zone),
            "acknowledged_by": row["acknowledged_by"],
        }
        for row, state in zip(page.rows, states, strict=True)
    ]


class TaskDetailSerializer(TaskSerializer):
    """One task as its detail shows it, with what the requesting user may do to it now."""

    allowed_actions = serializers.SerializerMethodField(
        help_text="当前用户此刻可对该任务执行的操作（如 start、progress、close、edit），"
                  "与任务页面显示的操作一致"
    )

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "allowed_actions"]
        read_only_fields = fields

    def to_representation(self, task: Task) -> dict:
        return super().to_representation(task) | {
            "allowed_actions": self.get_allowed_actions(task)
        }

    def get_allowed_actions(self, task: Task) -> list[str]:
        return allowed_actions(self.context["request"].user, task)


class TaskCreateSerializer(InputSerializer):
    problem = serializers.PrimaryKeyRelatedField(queryset=Problem.objects.none())
    title = serializers.CharField(max_length=300)
    measures = serializers.CharField(required=False, allow_blank=True, default="")
    task_type = serializers.ChoiceField(choices=Task._meta.get_field("task_type").choices,
                                        required=False)
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    supporting_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), many=True, required=False
    )
    responsible_leader = serializers.CharField(max_length=100, required=False, allow_blank=True)
    responsible_person = serializers.CharField(max_length=100, required=False, allow_blank=True)
    deadline = serializers.DateField(allow_null=True, required=False)
    is_key = serializers.BooleanField(required=False, default=False, help_text="重点任务")
    priority = serializers.ChoiceField(
        choices=TaskPriority.choices, required=False, default=TaskPriority.NORMAL,
        help_text="优先级：1 一般，2 较高，3 高，4 紧急",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["problem"].queryset = Problem.objects.filter(
                access.visible_problems_q(request.user)
            )


class TaskUpdateSerializer(InputSerializer):
    """A supervisor's edit of the plan. Status, progress and the rest are not fields here:
    sending them is refused by name, not silently ignored."""

    title = serializers.CharField(max_length=300, required=False)
    measures = serializers.CharField(required=False, allow_blank=True)
    task_type = serializers.ChoiceField(choices=Task._meta.get_field("task_type").choices,
                                        required=False)
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False)
    supporting_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), many=True, required=False
    )
    responsible_leader = serializers.CharField(max_length=100, required=False, allow_blank=True)
    responsible_person = serializers.CharField(max_length=100, required=False, allow_blank=True)
    deadline = serializers.DateField(allow_null=True, required=False)
    version = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, required=False,
        help_text="读取时的版本号（或使用 If-Match 请求头）",
    )

    unknown_field_hint = "该字段不能修改（状态只能通过流转操作改变）"


assert set(TASK_EDITABLE_FIELDS) <= set(TaskUpdateSerializer._declared_fields)


class TransitionSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="说明（退回、转为长期坚持、重新打开时必填）")
    version = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, required=False,
        help_text="读取时的版本号（或使用 If-Match 请求头）",
    )


class AckBatchItemSerializer(InputSerializer):
    id = serializers.IntegerField(min_value=1, max_value=2_147_483_647, help_text="任务编号")
    version = serializers.IntegerField(min_value=1, max_value=2_147_483_647,
                                       help_text="读取时的版本号")


class AckBatchSerializer(InputSerializer):
    """批量签收: the tasks with the version each was read at, one note for all."""

    tasks = AckBatchItemSerializer(
        many=True, min_length=1, max_length=ACK_BATCH_MAX,
        help_text=f"要签收的任务及读取时的版本号（1至{ACK_BATCH_MAX}项）",
        error_messages={"min_length": "请先选择要签收的任务",
                        "max_length": f"一次最多签收{ACK_BATCH_MAX}项任务",
                        "empty": "请先选择要签收的任务"},
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                 help_text="签收说明（可选，各任务相同）")

    def validate_tasks(self, items):
        ids = [item["id"] for item in items]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("同一任务不能重复列出")
        return items


class AckBatchRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(allow_null=True, help_text="任务名称（无权查看的任务为空）")
    detail = serializers.CharField(help_text="未签收的原因")


class AckBatchResultSerializer(serializers.Serializer):
    acknowledged = serializers.ListField(child=serializers.IntegerField(),
                                         help_text="已签收的任务编号")
    refused = AckBatchRefusalSerializer(many=True, help_text="未签收的任务及原因")


class PrioritySerializer(TransitionSerializer):
    """调整优先级: give either or both; what is not given stays as it is."""

    is_key = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="重点任务：true 设为，false 取消")
    priority = serializers.ChoiceField(
        choices=TaskPriority.choices, required=False, allow_null=True, default=None,
        help_text="优先级：1 一般，2 较高，3 高，4 紧急",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                 help_text="说明（可选）")

    def validate(self, attrs):
        if attrs.get("is_key") is None and attrs.get("priority") is None:
            raise serializers.ValidationError("请至少填写“重点任务”或“优先级”之一")
        return attrs


class CloseSerializer(TransitionSerializer):
    confirm_no_evidence = serializers.BooleanField(
        required=False, default=False,
        help_text="确认无佐证材料销号：任务没有佐证材料时须为 true，否则返回 400",
    )
    effectiveness = serializers.ChoiceField(
        choices=Effectiveness.choices, required=False, allow_blank=True, default="",
        help_text="整改成效（必填，缺少时返回 400）：effective 有效、basically_effective 基本有效、"
                  "ineffective 无效",
        error_messages={"invalid_choice": "整改成效只能是有效、基本有效或无效"},
    )
    root_cause = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                       default="", help_text="原因分析")
    recheck_on = serializers.DateField(
        required=False, allow_null=True,
        help_text="回头看日期：不传为默认（销号后 RECHECK_DEFAULT_MONTHS 个月，默认 6 个月），"
                  "null 为不安排回头看",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "recheck_on" not in attrs:
            attrs["recheck_on"] = DEFAULT_RECHECK
        return attrs


class ProgressSerializer(TransitionSerializer):
    note = serializers.CharField(help_text="进展情况")
    percent = serializers.IntegerField(min_value=0, max_value=100, required=False,
                                       allow_null=True)


class TaskEventSerializer(serializers.ModelSerializer):
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    action_display = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = TaskEvent
        fields = ["id", "at", "actor", "action", "action_display", "from_status", "to_status",
                  "note", "deadline_from", "deadline_to", "lead_unit_from", "lead_unit_to",
                  "data"]
        read_only_fields = fields


class ProgressReportSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True)

    class Meta:
        model = ProgressReport
        fields = ["id", "task", "author", "note", "percent", "created_at"]
        read_only_fields = fields


class DeadlineEntrySerializer(serializers.Serializer):
    """Renders tracker.selectors.DeadlineEntry: the rows the task page shows too."""

    deadline = serializers.DateField(allow_null=True)
    source = serializers.ChoiceField(choices=list(DEADLINE_SOURCES.items()))
    label = serializers.CharField()
    at = serializers.DateTimeField()
    actor = UserBriefSerializer(allow_null=True)
    note = serializers.CharField(allow_blank=True)


# --- Evidence and extensions --------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = UserBriefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "task", "progress_report", "recheck", "original_name", "content_type",
                  "size", "sha256", "uploaded_by", "uploaded_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_download_url(self, evidence: Evidence) -> str:
        return f"/api/v1/evidence/{evidence.pk}/download/"


class EvidenceUploadSerializer(InputSerializer):
    # An empty file is refused by the service, which names it ("文件为空：…").
    file = serializers.FileField(max_length=255, allow_empty_file=True)
    progress_report = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                               max_value=2**62)


class ExtensionSerializer(serializers.ModelSerializer):
    requested_by = UserBriefSerializer(read_only=True)
    decided_by = UserBriefSerializer(read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DeadlineExtension
        fields = ["id", "task", "status", "status_display", "previous_deadline",
                  "requested_deadline", "reason", "requested_by", "requested_at",
                  "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class ExtensionRequestSerializer(InputSerializer):
    requested_deadline = serializers.DateField()
    reason = serializers.CharField()


class ExtensionDecisionSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="审批意见（驳回时必填）")


# --- Authentication -----------------------------------------------------------------------


class LoginSerializer(InputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"})
    otp = serializers.RegexField(
        r"^[0-9]{6}$", required=False, help_text="已绑定身份验证器的账号须提供6位动态验证码",
        error_messages={"invalid": "动态验证码应为6位数字"},
    )


class TokenRequestSerializer(LoginSerializer):
    name = serializers.CharField(
        max_length=100, required=False, default="API",
        help_text="客户端名称，如“台账同步脚本”；同名的旧令牌随之作废",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="只在此时显示一次，请妥善保存")
    name = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    user = UserSerializer(read_only=True)
