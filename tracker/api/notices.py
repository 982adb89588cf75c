"""Supervision notices (督办单) under /api/v1/notices/: the register (scoped, filtered, cursor
pages), a notice, issuing one on several tasks, a unit's reply to its part, the .docx.

The reader sees a notice through its tasks (tracker.access.visible_notices_q) and only the
parts about tasks they see: an officer never sees another unit's task through a notice.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from config.api.pagination import TaskCursorPagination
from config.api.permissions import anyone_signed_in
from config.api.serializers import InputSerializer, UnitBriefSerializer, UserBriefSerializer
from tracker import access, notice_selectors
from tracker.api.views import FilteredBySelector
from tracker.deadlines import default_reply_by, suggest_notice_colour, task_light
from tracker.filters import ID_MAX
from tracker.models import NoticeColour, NoticeState, SupervisionNotice, Task
from tracker.notice_docx import DOCX, notice_docx_response
from tracker.selectors import task_list
from tracker.services import notices as notice_services


class NoticeTaskBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "status", "deadline"]


class NoticeItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = NoticeTaskBriefSerializer()
    unit = UnitBriefSerializer()
    state = serializers.ChoiceField(choices=NoticeState.choices,
                                    help_text="待回复/已回复/逾期未回复")
    state_display = serializers.SerializerMethodField()
    reply = serializers.CharField()
    replied_by = UserBriefSerializer(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)

    def get_state_display(self, item) -> str:
        return NoticeState(item.state).label


class NoticeSerializer(serializers.ModelSerializer):
    """A notice with the parts the reader sees; needs notice_list()'s annotations."""

    number = serializers.CharField(read_only=True)
    colour_display = serializers.CharField(source="get_colour_display", read_only=True)
    issued_by = UserBriefSerializer(read_only=True)
    state = serializers.ChoiceField(choices=NoticeState.choices, read_only=True)
    state_display = serializers.SerializerMethodField()
    parts = serializers.IntegerField(read_only=True, help_text="可见的督办事项数")
    replied = serializers.IntegerField(read_only=True, help_text="其中已回复的")
    items = NoticeItemSerializer(source="seen_items", many=True, read_only=True)

    class Meta:
        model = SupervisionNotice
        fields = ["id", "number", "colour", "colour_display", "reason", "requirements",
                  "reply_by", "issued_by", "issued_at", "state", "state_display", "parts",
                  "replied", "items"]
        read_only_fields = fields

    def get_state_display(self, notice) -> str:
        return NoticeState(notice.state).label


class NoticeIssueSerializer(InputSerializer):
    tasks = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
                                  min_length=1,
                                  max_length=notice_services.MAX_TASKS_PER_NOTICE)
    colour = serializers.ChoiceField(choices=NoticeColour.choices)
    reason = serializers.CharField(max_length=2000)
    requirements = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                         default="")
    reply_by = serializers.DateField()


class NoticeReplySerializer(InputSerializer):
    task = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="所回复的督办任务")
    reply = serializers.CharField(max_length=4000)


class NoticeSuggestionSerializer(serializers.Serializer):
    colour = serializers.ChoiceField(choices=NoticeColour.choices)
    reply_by = serializers.DateField()


class NoticeViewSet(FilteredBySelector, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """督办单登记簿：可见任务的督办单（每个单位只看到本单位的部分）；督导人员下发，承办单位回复。"""

    serializer_class = NoticeSerializer
    filterset_class = notice_selectors.NoticeFilter
    pagination_class = TaskCursorPagination
    rules = {"list": anyone_signed_in, "retrieve": anyone_signed_in,
             "create": access.may_issue_notices, "reply": anyone_signed_in,
             "docx": anyone_signed_in, "suggestion": access.may_issue_notices}

    def get_queryset(self):
        return notice_selectors.notice_list(
            user=self.request.user, today=timezone.localdate(), filters=self.list_filters()
        )

    @extend_schema(request=NoticeIssueSerializer, responses={201: NoticeSerializer})
    def create(self, request):
        """下发督办单（可同时督办多项任务，每项任务由其牵头单位回复）。"""
        data = NoticeIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = notice_services.notice_issue(
            actor=request.user, task_ids=data.validated_data["tasks"],
            colour=data.validated_data["colour"], reason=data.validated_data["reason"],
            requirements=data.validated_data["requirements"],
            reply_by=data.validated_data["reply_by"],
        )
        notice = self.get_queryset().get(pk=notice.pk)
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NoticeReplySerializer, responses=NoticeSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reply(self, request, pk=None):
        """承办单位回复督办单中本单位的任务。"""
        notice = self.get_object()
        data = NoticeReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = next((i for i in notice.seen_items if i.task_id == data.validated_data["task"]),
                    None)
        if item is None:
            raise NotFound("该督办单中没有这项任务")
        if not access.can_reply_notice(request.user, item.task):
            raise PermissionDenied("只有牵头单位可以回复该督办事项")
        notice_services.notice_reply(actor=request.user, item=item,
                                     reply=data.validated_data["reply"])
        return Response(NoticeSerializer(self.get_queryset().get(pk=notice.pk)).data)

    @extend_schema(
        responses={(200, DOCX): OpenApiResponse(OpenApiTypes.BINARY)}, filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def docx(self, request, pk=None):
        """督办单（公文格式 .docx），只含本人可见的任务。"""
        notice = self.get_object()
        return notice_docx_response(notice=notice, items=notice.seen_items)

    @extend_schema(
        parameters=[OpenApiParameter("tasks", OpenApiTypes.INT, many=True,
                                     description="任务 id，可重复")],
        responses=NoticeSuggestionSerializer, filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def suggestion(self, request):
        """按所选任务的灯色建议督办等级（红灯→红色，黄灯→蓝色，其余→黄色）和回复期限。"""
        ids = [int(v) for v in request.query_params.getlist("tasks")
               if v.isdigit() and int(v) <= ID_MAX]
        today = timezone.localdate()
        tasks = task_list(user=request.user).filter(pk__in=ids).values_list("status", "deadline")
        colour = suggest_notice_colour(task_light(s, d, today) for s, d in tasks)
        return Response({"colour": colour, "reply_by": default_reply_by(today)})
