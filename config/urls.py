from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerView,
)

from config.views import health
from tracker.api.views import LocalRedocView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/v1/", include("tracker.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/notifications/", include("tracker.api.notifications")),
    # OpenAPI 3 schema and its docs, served from our own static files (sidecar, no CDN).
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", LocalRedocView.as_view(url_name="schema"), name="redoc"),
    # Pages for people (issue 7): "/" is 我的任务 for officers, the dashboard for supervisors.
    path("", include("tracker.web.urls")),
    path("", include("reports.web.urls")),
]

handler404 = "config.api.exceptions.api_aware_not_found"
handler500 = "config.api.exceptions.api_aware_server_error"
