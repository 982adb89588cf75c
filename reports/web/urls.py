"""Supervisors' pages built on the rollups (issue 7): 挂图作战 and the monthly report."""

from django.urls import path

from reports.web import views

app_name = "reports_web"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/monthly/", views.monthly_report, name="monthly_report"),
]
