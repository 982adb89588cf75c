from django.contrib import admin
from django.urls import include, path

from config.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/v1/", include("tracker.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/notifications/", include("tracker.api.notifications")),
    # Pages for people (issue 7): "/" is 我的任务 for officers, the dashboard for supervisors.
    path("", include("tracker.web.urls")),
    path("", include("reports.web.urls")),
]
