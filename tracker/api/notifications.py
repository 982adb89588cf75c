"""In-app notifications under /api/v1/notifications/: list mine, unread count, mark read.

Self-contained (its own serializer) and scoped to the requesting user: nobody sees or marks
anyone else's notifications.
"""

from django.urls import path
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.models import Notification
from tracker.services.notifications import notification_mark_all_read, notification_mark_read


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
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    def get_queryset(self):
        queryset = Notification.objects.filter(recipient_user=self.request.user).order_by(
            "-created_at", "-id"
        )
        if self.request.query_params.get("unread") in ("1", "true"):
            queryset = queryset.filter(read_at__isnull=True)
        return queryset


class UnreadCountView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        count = Notification.objects.filter(
            recipient_user=request.user, read_at__isnull=True
        ).count()
        return Response({"unread": count})


class MarkReadView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int):
        if not notification_mark_read(user=request.user, notification_id=pk):
            return Response({"detail": "通知不存在"}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MarkAllReadView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        return Response({"marked": notification_mark_all_read(user=request.user)})


urlpatterns = [
    path("", NotificationListView.as_view(), name="notification-list"),
    path("unread-count/", UnreadCountView.as_view(), name="notification-unread-count"),
    path("read-all/", MarkAllReadView.as_view(), name="notification-read-all"),
    path("<int:pk>/read/", MarkReadView.as_view(), name="notification-read"),
]
