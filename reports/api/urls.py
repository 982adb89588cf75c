# Rollups and report reading under /api/v1/ (see the rollups and reports issues).
from django.urls import path
from rest_framework.routers import SimpleRouter

from reports.api import views

router = SimpleRouter()
# Figures and items first: their prefixes are not report ids (those are digits only).
router.register("reports/figures", views.ExtractedFigureViewSet, basename="report-figure")
router.register("reports/items", views.ExtractedItemViewSet, basename="report-item")
router.register("reports/imports", views.ReportImportViewSet, basename="report-import")
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns: list = [
    path("rollups/", views.RollupView.as_view(), name="rollups"),
    path("rollups/trend/", views.TrendView.as_view(), name="rollups-trend"),
    path("rollups/snapshots/", views.SnapshotListView.as_view(), name="rollup-snapshots"),
    path(
        "rollups/snapshots/<int:pk>/",
        views.SnapshotDetailView.as_view(),
        name="rollup-snapshot-detail",
    ),
    path("rollups/reconciliation/", views.ReconciliationView.as_view(),
         name="rollups-reconciliation"),
    *router.urls,
]
