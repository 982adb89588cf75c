from django.contrib import admin
from django.urls import include, path

from config.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/v1/", include("tracker.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/notifications/", include("tracker.api.notifications")),
]
