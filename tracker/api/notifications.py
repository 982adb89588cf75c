"""In-app notifications under /api/v1/notifications/: list mine, unread count, mark read,
and my notification preferences (preferences/: GET, PATCH; issue 11).

Self-contained (its own serializer) and scoped to the requesting user: nobody sees or marks
anyone else's notifications.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import anyone_signed_in
from config.api.serializers import InputSerializer
from tracker.models import DeliveryMode, EventType, Notification
from tracker.reminders.notifications import notification_mark_all_read, notification_mark_read
from tracker.reminders.preferences import notification_preferences_update, preference_of


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_display", "day", "title", "body", "items", "created_at",
                  "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationListView(generics.ListAPIView):
    """我的通知，最新的在前；?unread=1 只看未读。"""

    serializer_class = NotificationSerializer
    rules = {"get": anyone_signed_in}
    filter_backends: list = []

    def get_queryset(self):
        queryset = Notification.objects.filter(recipient_user=self.request.user).order_by(
            "-created_at", "-id"
        )
        if self.request.query_params.get("unread") in ("1", "true"):
            queryset = queryset.filter(read_at__isnull=True)
        return queryset


class UnreadCountView(APIView):
    rules = {"get": anyone_signed_in}

    @extend_schema(
        responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
    )
    def get(self, request):
        count = Notification.objects.filter(
            recipient_user=request.user, read_at__isnull=True
        ).count()
        return Response({"unread": count})


class MarkReadView(APIView):
    rules = {"post": anyone_signed_in}

    @extend_schema(request=None, responses={204: None})
    def post(self, request, pk: int):
        if not notification_mark_read(user=request.user, notification_id=pk):
            raise NotFound("通知不存在")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MarkAllReadView(APIView):
    rules = {"post": anyone_signed_in}

    @extend_schema(
        request=None,
        responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}),
    )
    def post(self, request):
        return Response({"marked": notification_mark_all_read(user=request.user)})


class NotificationPreferenceSerializer(InputSerializer):
    """我的通知设置：各类事项是否通知、是否发邮件（站内消息始终开启）、即时或每日汇总。"""

    on_submitted = serializers.BooleanField(required=False, help_text=EventType.SUBMITTED.label)
    on_sent_back = serializers.BooleanField(required=False, help_text=EventType.SENT_BACK.label)
    on_extension_decided = serializers.BooleanField(
        required=False, help_text=EventType.EXTENSION_DECIDED.label
    )
    on_reopened = serializers.BooleanField(required=False, help_text=EventType.REOPENED.label)
    on_supporting_assigned = serializers.BooleanField(
        required=False, help_text=EventType.SUPPORTING_ASSIGNED.label
    )
    on_mentioned = serializers.BooleanField(required=False, help_text=EventType.MENTIONED.label)
    on_instructed = serializers.BooleanField(
        required=False, help_text=EventType.INSTRUCTED.label
    )
    on_watched = serializers.BooleanField(required=False, help_text=EventType.WATCHED.label)
    on_notice_issued = serializers.BooleanField(
        required=False, help_text=EventType.NOTICE_ISSUED.label
    )
    on_notice_replied = serializers.BooleanField(
        required=False, help_text=EventType.NOTICE_REPLIED.label
    )
    on_notice_overdue = serializers.BooleanField(
        required=False, help_text=EventType.NOTICE_OVERDUE.label
    )
    on_recheck_due = serializers.BooleanField(
        required=False, help_text=EventType.RECHECK_DUE.label
    )
    on_recheck_reported = serializers.BooleanField(
        required=False, help_text=EventType.RECHECK_REPORTED.label
    )
    on_recheck_overdue = serializers.BooleanField(
        required=False, help_text=EventType.RECHECK_OVERDUE.label
    )
    on_assigned = serializers.BooleanField(required=False, help_text=EventType.ASSIGNED.label)
    by_email = serializers.BooleanField(required=False, help_text="同时发送电子邮件")
    mode = serializers.ChoiceField(
        choices=DeliveryMode.choices, required=False,
        error_messages={"invalid_choice": "发送方式只能是 immediate（即时）或 digest（每日汇总）"},
    )
    inbox = serializers.SerializerMethodField(help_text="站内消息始终开启")

    def get_inbox(self, obj) -> bool:
        return True


class NotificationPreferenceView(APIView):
    """我的通知设置（只能查看和修改本人的）。"""

    rules = {"get": anyone_signed_in, "patch": anyone_signed_in}

    @extend_schema(responses=NotificationPreferenceSerializer)
    def get(self, request):
        return Response(NotificationPreferenceSerializer(preference_of(request.user)).data)

    @extend_schema(request=NotificationPreferenceSerializer,
                   responses=NotificationPreferenceSerializer)
    def patch(self, request):
        serializer = NotificationPreferenceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        pref = notification_preferences_update(user=request.user, **serializer.validated_data)
        return Response(NotificationPreferenceSerializer(pref).data)


urlpatterns = [
    path("preferences/", NotificationPreferenceView.as_view(),
         name="notification-preferences"),
    path("", NotificationListView.as_view(), name="notification-list"),
    path("unread-count/", UnreadCountView.as_view(), name="notification-unread-count"),
    path("read-all/", MarkAllReadView.as_view(), name="notification-read-all"),
    path("<int:pk>/read/", MarkReadView.as_view(), name="notification-read"),
]
