# Rollups and report reading under /api/v1/ (see the rollups and reports issues).
from django.urls import path

from reports.api import views

urlpatterns: list = [
    path("rollups/", views.RollupView.as_view(), name="rollups"),
    path("rollups/trend/", views.TrendView.as_view(), name="rollups-trend"),
    path("rollups/snapshots/", views.SnapshotListView.as_view(), name="rollup-snapshots"),
    path(
        "rollups/snapshots/<int:pk>/",
        views.SnapshotDetailView.as_view(),
        name="rollup-snapshot-detail",
    ),
]
