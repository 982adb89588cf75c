"""In-app notifications under /api/v1/notifications/: list mine, unread count, mark read.

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
from tracker.models import Notification
from tracker.reminders.notifications import notification_mark_all_read, notification_mark_read


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


urlpatterns = [
    path("", NotificationListView.as_view(), name="notification-list"),
    path("unread-count/", UnreadCountView.as_view(), name="notification-unread-count"),
    path("read-all/", MarkAllReadView.as_view(), name="notification-read-all"),
    path("<int:pk>/read/", MarkReadView.as_view(), name="notification-read"),
]
