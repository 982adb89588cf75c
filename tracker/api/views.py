"""Thin views: scope the queryset, check the rule, validate input, call a service, render.

Every queryset is scoped to the requesting user first (tracker.selectors / tracker.access), so
an object the user may not see is a 404, never a 403.
"""

import datetime as dt
import re

from django.contrib.auth import login, logout
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import FileResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import CSRFCheck
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.exceptions import PreconditionFailed, PreconditionRequired
from config.api.pagination import PageNumberPagination, TaskCursorPagination
from config.api.permissions import admin_only, anyone_signed_in, supervisor_or_admin
from tracker import access, filters, selectors
from tracker.api import serializers
from tracker.errors import InvalidInput
from tracker.models import (
    ApiToken,
    Problem,
    TaskAction,
    Unit,
    User,
)
from tracker.services import auth as auth_services
from tracker.services import evidence as evidence_services
from tracker.services import extensions as extension_services
from tracker.services import inspections as inspection_services
from tracker.services import priority as priority_services
from tracker.services import review as review_services
from tracker.services import tasks as task_services
from tracker.services import units as unit_services
from tracker.services import users as user_services
from tracker.services.audit import AuditAction, audit_origin, audit_record
from tracker.statements import ReusedStatement

IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="读取时得到的 ETag；与当前版本不符时返回 412",
)
DATE_MAX = dt.date(9999, 12, 31)
# The query parameters of a task list page that only order and page it: a request with no
# other parameter reuses the list's compiled statement (tracker.statements).
PAGING_PARAMS = frozenset({"cursor", "ordering", "page_size"})
ETAG_RE = re.compile(r'^(?:W/)?"?([0-9]{1,10})"?$')


class FilteredBySelector:
    """For a resource whose selector applies its FilterSet (the pages call the same
    selector): the filter backend only documents the FilterSet here; ordering still applies."""

    def filter_queryset(self, queryset):
        for backend in self.filter_backends:
            if not issubclass(backend, DjangoFilterBackend):
                queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def list_filters(self):
        """The query string's filters for a list, none for an object (it is found by id)."""
        return self.request.query_params if self.action == "list" else None


# --- Units and users ----------------------------------------------------------------------


class UnitViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    """责任单位：所有登录用户可查看单位树；只有系统管理员可以新增和修改。"""

    serializer_class = serializers.UnitSerializer
    filterset_class = filters.UnitFilter
    ordering_fields = ["id", "name", "sort_order", "depth"]
    ordering = ["path"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    rules = {
        "list": anyone_signed_in, "retrieve": anyone_signed_in, "tree": anyone_signed_in,
        "create": access.may_edit_units, "partial_update": access.may_edit_units,
    }

    def get_queryset(self):
        return Unit.objects.all()

    def perform_create(self, serializer):
        serializer.instance = unit_services.unit_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = unit_services.unit_update(
            unit=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(responses=serializers.UnitTreeSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def tree(self, request):
        """整棵单位树（嵌套），一次查询。"""
        nodes: dict[int, dict] = {}
        roots: list[dict] = []
        for unit in Unit.objects.order_by("depth", "sort_order", "id"):
            node = {"id": unit.pk, "name": unit.name, "short_name": unit.short_name,
                    "kind": unit.kind, "children": []}
            nodes[unit.pk] = node
            parent = nodes.get(unit.parent_id)
            (parent["children"] if parent else roots).append(node)
        return Response(roots)


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """用户：任何人可查看自己（me）；只有系统管理员可以查看和新增用户。"""

    serializer_class = serializers.UserSerializer
    ordering_fields = ["id", "username"]
    ordering = ["id"]
    filterset_fields = ["role", "unit"]
    rules = {
        "me": anyone_signed_in, "list": admin_only, "retrieve": admin_only,
        "create": admin_only,
    }

    def get_queryset(self):
        users = User.objects.select_related("unit").order_by("id")
        return users if access.sees_everything(self.request.user) else users.none()

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.UserCreateSerializer
        return serializers.UserSerializer

    @extend_schema(request=serializers.UserCreateSerializer,
                   responses={201: serializers.UserSerializer})
    def create(self, request, *args, **kwargs):
        data = self._validated(serializers.UserCreateSerializer)
        user = user_services.user_create(actor=request.user, **data)
        return Response(serializers.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=serializers.UserSerializer, filters=False)
    @action(detail=False, methods=["get"], filter_backends=[])
    def me(self, request):
        """当前登录用户。"""
        return Response(serializers.UserSerializer(request.user).data)

    def _validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- Inspections and problems -------------------------------------------------------------


class InspectionViewSet(
    FilteredBySelector, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    """巡视巡察：按可见范围列出；督导人员和管理员在其范围内新增、修改。"""

    serializer_class = serializers.InspectionSerializer
    filterset_class = filters.InspectionFilter
    ordering_fields = ["id", "feedback_date", "created_at", "title"]
    ordering = ["-feedback_date", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    rules = {
        "list": anyone_signed_in, "retrieve": anyone_signed_in,
        "create": supervisor_or_admin, "partial_update": supervisor_or_admin,
    }
    object_rules = {"partial_update": access.can_edit_inspection}

    def get_queryset(self):
        return selectors.inspection_list(user=self.request.user, filters=self.list_filters())

    def perform_create(self, serializer):
        serializer.instance = inspection_services.inspection_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = inspection_services.inspection_update(
            inspection=serializer.instance, actor=self.request.user,
            **serializer.validated_data,
        )


class ProblemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    """反馈问题：按可见范围列出；督导人员和管理员在其范围内新增、修改。"""

    serializer_class = serializers.ProblemSerializer
    filterset_class = filters.ProblemFilter
    ordering_fields = ["id", "number"]
    ordering = ["inspection_id", "number"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    rules = {
        "list": anyone_signed_in, "retrieve": anyone_signed_in,
        "create": supervisor_or_admin, "partial_update": supervisor_or_admin,
    }
    object_rules = {
        "partial_update": lambda user, problem: access.can_edit_inspection(
            user, problem.inspection
        ),
    }

    def get_queryset(self):
        return Problem.objects.filter(access.visible_problems_q(self.request.user)).select_related(
            "inspection__target_unit"
        )

    def get_serializer_class(self):
        if self.action == "partial_update":
            return serializers.ProblemUpdateSerializer
        return serializers.ProblemSerializer

    def perform_create(self, serializer):
        serializer.instance = inspection_services.problem_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = inspection_services.problem_update(
            problem=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


# --- Tasks --------------------------------------------------------------------------------


def _close_reviewed(*, task, actor, note, expected_version, confirm_no_evidence=False,
                    **closure):
    # 销号 through the API as on the pages: a task without evidence only when confirmed, a
    # verdict required (closure: effectiveness, root_cause, recheck_on).
    return review_services.task_close_reviewed(
        task=task, actor=actor, note=note, expected_version=expected_version,
        confirm_no_evidence=confirm_no_evidence, verdict_required=True, **closure,
    )


_close_reviewed.__doc__ = task_services.task_close.__doc__
TRANSITION_SERVICES = {
    TaskAction.ACKNOWLEDGE: task_services.task_acknowledge,
    TaskAction.START: task_services.task_start,
    TaskAction.SUBMIT: task_services.task_submit,
    TaskAction.CLOSE: _close_reviewed,
    TaskAction.SEND_BACK: task_services.task_send_back,
    TaskAction.MARK_BASICALLY_COMPLETED: task_services.task_mark_basically_completed,
    TaskAction.MARK_LONG_TERM: task_services.task_mark_long_term,
    TaskAction.REOPEN: task_services.task_reopen,
}
TRANSITION_INPUTS = {TaskAction.CLOSE: serializers.CloseSerializer}


def _transition_view(task_action: TaskAction):
    service = TRANSITION_SERVICES[task_action]
    input_serializer = TRANSITION_INPUTS.get(task_action, serializers.TransitionSerializer)

    def view(self, request, pk=None):
        task = self.get_object()
        data = dict(self.validated(input_serializer))
        service(
            task=task, actor=request.user, note=data.pop("note"),
            expected_version=self.expected_version(task, data.pop("version", None)), **data,
        )
        return self.task_response(task)

    view.__name__ = task_action.value
    view.__doc__ = f"{task_action.label}（{service.__doc__}）"
    view = action(detail=True, methods=["post"], url_path=task_action.value.replace("_", "-"))(
        view
    )
    return extend_schema(
        request=input_serializer,
        responses=serializers.TaskDetailSerializer,
        parameters=[IF_MATCH],
        summary=task_action.label,
        filters=False,
    )(view)


class TaskViewSet(
    FilteredBySelector, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    """整改任务：列表、详情、新增、修改，以及各流转操作。

    写操作须带读取时的版本号（version 字段或 If-Match 请求头）；版本已变则返回 409/412，
    不做任何修改。状态只能通过流转操作改变。
    """

    serializer_class = serializers.TaskSerializer
    filterset_class = filters.TaskFilter
    pagination_class = TaskCursorPagination
    ordering_fields = ["id", "created_at", "updated_at", "progress_percent", "status"]
    ordering_aliases = {"deadline": "deadline_key"}
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Seeing the task is the queryset's business; what may be done to it, the object rules'.
    rules = dict.fromkeys(
        ["list", "retrieve", "partial_update", "progress", "history", "progress_reports",
         "deadlines", "evidence", "extensions", "set_priority", "acknowledge_batch",
         *(a.value for a in TRANSITION_SERVICES)],
        anyone_signed_in,
    ) | {"create": supervisor_or_admin}
    # The same rules the services enforce (tracker.services.tasks.ACTIONS, the table the task
    # page and `allowed_actions` read too), checked here first so a refusal never reaches the
    # service.
    object_rules = {
        a.value: task_services.ACTIONS[a.value].may_act for a in TRANSITION_SERVICES
    } | {
        "progress": task_services.ACTIONS[TaskAction.PROGRESS.value].may_act,
        "partial_update": task_services.ACTIONS["edit"].may_act,
        "evidence": task_services.ACTIONS["evidence"].may_act,
        "extensions": task_services.ACTIONS["extension_request"].may_act,
        "set_priority": task_services.ACTIONS["set_priority"].may_act,
    }

    def get_queryset(self):
        # Deadline order with undated (long-term) tasks last, usable as a cursor position.
        return selectors.task_list(user=self.request.user, filters=self.list_filters()).annotate(
            deadline_key=Coalesce("deadline", Value(DATE_MAX))
        )

    def list(self, request, *args, **kwargs):
        """The page as TaskSerializer would render it, from the list's columns as plain values
        (tracker.selectors.task_rows), the supporting units a column of the same query (the
        cursor never skips rows, so no OFFSET pays for them). Without filters the statement
        compiled for the same scope, ordering and position is reused
        (tracker.statements)."""

        def rows():
            return selectors.task_rows(self.filter_queryset(self.get_queryset()),
                                       extra=("deadline_key",), with_supporting=True)

        if set(request.query_params) <= PAGING_PARAMS:
            source = ReusedStatement(rows, key=("tasks", access.visible_tasks_key(request.user)))
        else:
            source = rows()
        page = self.paginate_queryset(source)
        data = serializers.task_rows_data(selectors.task_rows_page(page),
                                          today=timezone.localdate())
        return self.get_paginated_response(data)

    def get_serializer_context(self):
        return super().get_serializer_context() | {"today": timezone.localdate()}

    def validated(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def expected_version(self, task, body_version: int | None) -> int:
        """The version the client read: If-Match (412 when stale) or the body's `version`
        (the service answers 409 when stale). A write without either is refused (428)."""
        header = self.request.headers.get("If-Match")
        if header is not None:
            match = ETAG_RE.match(header.strip())
            if not match or int(match.group(1)) != task.version:
                raise PreconditionFailed()
            return body_version if body_version is not None else task.version
        if body_version is None:
            raise PreconditionRequired()
        return body_version

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.TaskSerializer
        return serializers.TaskDetailSerializer

    def task_response(self, task, status_code=status.HTTP_200_OK) -> Response:
        task = self.get_queryset().get(pk=task.pk)
        response = Response(
            serializers.TaskDetailSerializer(task, context=self.get_serializer_context()).data,
            status=status_code,
        )
        response["ETag"] = f'"{task.version}"'
        return response

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        response = Response(self.get_serializer(task).data)
        response["ETag"] = f'"{task.version}"'
        return response

    @extend_schema(request=serializers.TaskCreateSerializer,
                   responses={201: serializers.TaskDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = self.validated(serializers.TaskCreateSerializer)
        task = task_services.task_create(actor=request.user, **data)
        return self.task_response(task, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.TaskUpdateSerializer,
                   responses=serializers.TaskDetailSerializer,
                   parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        task = self.get_object()
        data = dict(self.validated(serializers.TaskUpdateSerializer))
        version = self.expected_version(task, data.pop("version", None))
        task_services.task_update(task=task, actor=request.user, expected_version=version, **data)
        return self.task_response(task)

    acknowledge = _transition_view(TaskAction.ACKNOWLEDGE)

    @extend_schema(request=serializers.AckBatchSerializer,
                   responses=serializers.AckBatchResultSerializer, filters=False,
                   summary="批量签收",
                   # /tasks/acknowledge/ beside /tasks/{id}/acknowledge/: named apart.
                   operation_id="v1_tasks_acknowledge_batch")
    @action(detail=False, methods=["post"], url_path="acknowledge",
            url_name="acknowledge-batch", filter_backends=[], pagination_class=None)
    def acknowledge_batch(self, request):
        """批量签收（责任单位联络员）：逐项签收，每项带读取时的版本号；未能签收的任务逐项列出原因
        （其余照常签收）。督导人员、管理员不能代为签收（403）。"""
        data = self.validated(serializers.AckBatchSerializer)
        outcome = task_services.tasks_acknowledge_batch(
            actor=request.user, task_ids=[item["id"] for item in data["tasks"]],
            versions={item["id"]: item["version"] for item in data["tasks"]},
            note=data["note"],
        )
        return Response({
            "acknowledged": [task.pk for task in outcome.done],
            "refused": [
                {"id": refusal.pk, "title": refusal.title,
                 "detail": f"{refusal.which}：{refusal.reason}"}
                for refusal in outcome.refused
            ],
        })

    start = _transition_view(TaskAction.START)
    submit = _transition_view(TaskAction.SUBMIT)
    close = _transition_view(TaskAction.CLOSE)
    send_back = _transition_view(TaskAction.SEND_BACK)
    mark_basically_completed = _transition_view(TaskAction.MARK_BASICALLY_COMPLETED)
    mark_long_term = _transition_view(TaskAction.MARK_LONG_TERM)
    reopen = _transition_view(TaskAction.REOPEN)

    @extend_schema(request=serializers.ProgressSerializer,
                   responses=serializers.TaskDetailSerializer,
                   parameters=[IF_MATCH], filters=False)
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        """填报进展（第一次填报即启动整改）。"""
        task = self.get_object()
        data = self.validated(serializers.ProgressSerializer)
        task_services.task_report_progress(
            task=task, actor=request.user, note=data["note"], percent=data.get("percent"),
            expected_version=self.expected_version(task, data.get("version")),
        )
        return self.task_response(task)

    @extend_schema(request=serializers.PrioritySerializer,
                   responses=serializers.TaskDetailSerializer,
                   parameters=[IF_MATCH], filters=False, summary="调整优先级")
    @action(detail=True, methods=["post"], url_path="set-priority")
    def set_priority(self, request, pk=None):
        """设为或取消重点任务、调整优先级（牵头单位的督导人员；记入任务历史）。"""
        task = self.get_object()
        data = self.validated(serializers.PrioritySerializer)
        priority_services.task_set_priority(
            task=task, actor=request.user, is_key=data.get("is_key"),
            priority=data.get("priority"), note=data["note"],
            expected_version=self.expected_version(task, data.get("version")),
        )
        return self.task_response(task)

    @extend_schema(request={"multipart/form-data": serializers.EvidenceUploadSerializer},
                   responses={201: serializers.EvidenceSerializer}, filters=False)
    @action(detail=True, methods=["post"])
    def evidence(self, request, pk=None):
        """上传佐证材料（大小、类型受限；文件不经公开地址提供）。"""
        task = self.get_object()
        data = self.validated(serializers.EvidenceUploadSerializer)
        report = None
        if data.get("progress_report") is not None:
            report = task.progress_reports.filter(pk=data["progress_report"]).first()
            if report is None:
                raise InvalidInput("该进展不属于此任务", fields={"progress_report": "无效的进展"})
        evidence = evidence_services.evidence_add(
            task=task, actor=request.user, uploaded=data["file"], progress_report=report
        )
        return Response(serializers.EvidenceSerializer(evidence).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ExtensionRequestSerializer,
                   responses={201: serializers.ExtensionSerializer}, filters=False)
    @action(detail=True, methods=["post"])
    def extensions(self, request, pk=None):
        """申请延期（牵头单位）。"""
        task = self.get_object()
        data = self.validated(serializers.ExtensionRequestSerializer)
        extension = extension_services.extension_request(task=task, actor=request.user, **data)
        return Response(serializers.ExtensionSerializer(extension).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses=serializers.TaskEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=PageNumberPagination,
            filter_backends=[])
    def history(self, request, pk=None):
        """任务历史（只读，不可修改）。"""
        task = self.get_object()
        events = task.events.select_related("actor").order_by("at", "id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(serializers.TaskEventSerializer(page, many=True).data)

    @extend_schema(responses=serializers.ProgressReportSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="progress-reports",
            pagination_class=PageNumberPagination, filter_backends=[])
    def progress_reports(self, request, pk=None):
        """整改进展记录。"""
        task = self.get_object()
        reports = task.progress_reports.select_related("author")
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(
            serializers.ProgressReportSerializer(page, many=True).data
        )

    @extend_schema(responses=serializers.DeadlineEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def deadlines(self, request, pk=None):
        """该任务有过的每一个完成时限：原定、每次批准的延期和每次修改。"""
        task = self.get_object()
        return Response(
            serializers.DeadlineEntrySerializer(
                selectors.task_deadline_history(task=task), many=True
            ).data
        )



# --- Evidence and extensions --------------------------------------------------------------


class EvidenceViewSet(
    FilteredBySelector, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """佐证材料：只列出可见任务的材料；下载同样经过权限检查。"""

    serializer_class = serializers.EvidenceSerializer
    filterset_class = filters.EvidenceFilter
    ordering_fields = ["id", "uploaded_at"]
    ordering = ["-uploaded_at", "-id"]
    rules = {"list": anyone_signed_in, "retrieve": anyone_signed_in,
             "download": anyone_signed_in}

    def get_queryset(self):
        return selectors.evidence_list(user=self.request.user, filters=self.list_filters())

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def download(self, request, pk=None):
        """下载佐证材料（以附件形式，不提供公开地址）。"""
        evidence = self.get_object()
        audit_record(actor=request.user, action=AuditAction.EVIDENCE_DOWNLOAD, target=evidence,
                     note=str(evidence.task), **audit_origin(request))
        response = FileResponse(
            evidence.file.open("rb"), as_attachment=True, filename=evidence.original_name,
            content_type=evidence_services.evidence_content_type(evidence),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class ExtensionViewSet(
    FilteredBySelector, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """延期申请：列出可见任务的申请；督导人员批准或驳回。每次批准的延期都保留原完成时限。"""

    serializer_class = serializers.ExtensionSerializer
    filterset_class = filters.ExtensionFilter
    ordering_fields = ["id", "requested_at", "requested_deadline"]
    ordering = ["-requested_at", "-id"]
    rules = {"list": anyone_signed_in, "retrieve": anyone_signed_in,
             "approve": anyone_signed_in, "reject": anyone_signed_in}
    object_rules = dict.fromkeys(
        ["approve", "reject"],
        lambda user, extension: task_services.ACTIONS["extension_decide"].may_act(
            user, extension.task
        ),
    )

    def get_queryset(self):
        return selectors.extension_list(user=self.request.user, filters=self.list_filters())

    def _decide(self, service):
        extension = self.get_object()
        serializer = serializers.ExtensionDecisionSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        extension = service(extension=extension, actor=self.request.user,
                            note=serializer.validated_data["note"])
        return Response(serializers.ExtensionSerializer(extension).data)

    @extend_schema(request=serializers.ExtensionDecisionSerializer,
                   responses=serializers.ExtensionSerializer, filters=False)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """批准延期：任务完成时限改为申请的日期。"""
        return self._decide(extension_services.extension_approve)

    @extend_schema(request=serializers.ExtensionDecisionSerializer,
                   responses=serializers.ExtensionSerializer, filters=False)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """驳回延期（须填写理由）。"""
        return self._decide(extension_services.extension_reject)


# --- Authentication -----------------------------------------------------------------------


def _login_user(request, data, *, require_otp_enrolment: bool = False) -> User:
    """Password under the login waits, then the TOTP code of a user with an authenticator."""
    user = auth_services.login_authenticate(
        request=request._request, username=data["username"], password=data["password"],
        address=auth_services.client_address(request),
    )
    auth_services.otp_check(user=user, code=data.get("otp", ""),
                            require_enrolment=require_otp_enrolment)
    return user


class LoginView(APIView):
    """会话登录（供页面使用）。连续失败将按账号和地址锁定。"""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=serializers.LoginSerializer, responses=serializers.UserSerializer)
    def post(self, request):
        # A session login is a browser's: refuse it without the CSRF token (login CSRF).
        check = CSRFCheck(lambda req: None)
        check.process_request(request._request)
        reason = check.process_view(request._request, None, (), {})
        if reason and not getattr(request._request, "_dont_enforce_csrf_checks", False):
            raise PermissionDenied("CSRF 校验失败，请刷新页面后重新登录")
        serializer = serializers.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _login_user(request, serializer.validated_data)
        login(request._request, user)
        return Response(serializers.UserSerializer(user).data)


class LogoutView(APIView):
    """退出会话登录。"""

    rules = {"post": anyone_signed_in}

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        audit_record(actor=request.user, action=AuditAction.LOGOUT, target=request.user,
                     **audit_origin(request))
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(APIView):
    """令牌（供脚本和系统对接）：POST 用户名、密码（及客户端名称、动态验证码）换取该客户端
    的新令牌，令牌只显示这一次；DELETE 作废本次请求所用的令牌（以会话登录时作废本人全部令牌）。"""

    rules = {"post": anyone_signed_in, "delete": anyone_signed_in}

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return super().get_permissions()

    def get_authenticators(self):
        # Obtaining a token needs no session, hence no CSRF; revoking one needs a sign-in.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(request=serializers.TokenRequestSerializer,
                   responses=serializers.TokenSerializer)
    def post(self, request):
        serializer = serializers.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = _login_user(request, data, require_otp_enrolment=True)
        token, key = auth_services.api_token_issue(user=user, name=data["name"])
        return Response({"token": key, "name": token.name, "expires_at": token.expires_at,
                         "user": serializers.UserSerializer(user).data})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if isinstance(request.auth, ApiToken):
            auth_services.api_token_revoke(token=request.auth, actor=request.user)
        else:  # signed in with a session: every token of the user, as before per-client tokens
            auth_services.api_tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
