from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from config import health, metrics, views
from config.api.views import LocalRedocView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path("health/", health.live, name="health"),
    path("health/live/", health.live, name="health_live"),
    path("health/ready/", health.ready, name="health_ready"),
    path("metrics/", metrics.metrics, name="metrics"),
    path("api/v1/", include("tracker.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/notifications/", include("tracker.api.notifications")),
    # OpenAPI 3 schema and its docs, served from our own static files (sidecar, no CDN).
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as its own response, not inline (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", LocalRedocView.as_view(url_name="schema"), name="redoc"),
    # Pages for people.
    path("", include("tracker.web.urls")),
    path("", include("reports.web.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
