"""The thread of a task under /api/v1/tasks/<id>/ (issue 15):

- comments/  GET the comments and 领导批示 (cursor-paginated, newest first), POST one;
- watch/     GET whether I follow the task, PUT to follow it, DELETE to stop.

A task out of the reader's sight is 404. The services decide who may do what
(tracker.services.comments, calling tracker.access) and the exception handler turns their
refusals into the one error shape, in Chinese.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.pagination import TaskCursorPagination
from config.api.permissions import anyone_signed_in
from config.api.serializers import InputSerializer
from tracker.comment_selectors import is_watching, task_comments, visible_task
from tracker.models import CommentKind, CommentMention, Task, TaskComment
from tracker.models.comments import BODY_MAX
from tracker.services.comments import comment_post, watcher_add, watcher_remove


class CommentCursorPagination(TaskCursorPagination):
    ordering = ("-id",)


class MentionSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    id = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()

    class Meta:
        model = CommentMention
        fields = ["type", "id", "name"]

    def get_type(self, obj: CommentMention) -> str:
        return "user" if obj.user_id else "unit"

    def get_id(self, obj: CommentMention) -> int:
        return obj.user_id or obj.unit_id

    def get_name(self, obj: CommentMention) -> str:
        return obj.user.display_name if obj.user_id else obj.unit.name


class CommentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    author = serializers.IntegerField(source="author_id", read_only=True)
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    author_unit = serializers.CharField(source="author.unit.name", default="", read_only=True)
    mentions = MentionSerializer(many=True, read_only=True)

    class Meta:
        model = TaskComment
        fields = ["id", "task", "kind", "kind_display", "body", "author", "author_name",
                  "author_unit", "mentions", "created_at"]
        read_only_fields = fields


class CommentInputSerializer(InputSerializer):
    kind = serializers.ChoiceField(
        choices=CommentKind.choices, default=CommentKind.COMMENT,
        error_messages={
            "invalid_choice": "评论类型只能是 comment（评论）或 instruction（领导批示）"
        },
    )
    body = serializers.CharField(
        max_length=BODY_MAX,
        help_text="可用“@用户名”“@姓名”“@单位名称”提及能查看此任务的人员或单位",
        error_messages={"blank": "评论内容不能为空", "required": "请填写评论内容",
                        "max_length": f"评论内容不能超过{BODY_MAX}字"},
    )


def _task(request, task_pk: int) -> Task:
    task = visible_task(user=request.user, pk=task_pk)
    if task is None:
        raise Http404("任务不存在或您无权查看")
    return task


class TaskCommentListView(generics.ListCreateAPIView):
    """任务的评论与领导批示（最新的在前）；发表评论或批示（批示限负责督导该任务的督导人员）。"""

    serializer_class = CommentSerializer
    pagination_class = CommentCursorPagination
    rules = {"get": anyone_signed_in, "post": anyone_signed_in}
    filter_backends: list = []

    def get_queryset(self):
        return task_comments(task=_task(self.request, self.kwargs["task_pk"]))

    @extend_schema(request=CommentInputSerializer, responses={201: CommentSerializer})
    def post(self, request, task_pk: int):
        task = _task(request, task_pk)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comment_post(task=task, author=request.user, **data.validated_data)
        comment = task_comments(task=task).get(pk=comment.pk)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


WatchState = inline_serializer("WatchState", {"watching": serializers.BooleanField()})


class TaskWatchView(APIView):
    """关注任务：关注后可收到该任务的新评论、批示和状态变化通知。"""

    rules = {"get": anyone_signed_in, "put": anyone_signed_in, "delete": anyone_signed_in}

    @extend_schema(responses=WatchState)
    def get(self, request, task_pk: int):
        task = _task(request, task_pk)
        return Response({"watching": is_watching(user=request.user, task=task)})

    @extend_schema(request=None, responses=WatchState)
    def put(self, request, task_pk: int):
        watcher_add(task=_task(request, task_pk), user=request.user)
        return Response({"watching": True})

    @extend_schema(request=None, responses=WatchState)
    def delete(self, request, task_pk: int):
        watcher_remove(task=_task(request, task_pk), user=request.user)
        return Response({"watching": False})


urlpatterns = [
    path("tasks/<int:task_pk>/comments/", TaskCommentListView.as_view(),
         name="task-comments"),
    path("tasks/<int:task_pk>/watch/", TaskWatchView.as_view(), name="task-watch"),
]
