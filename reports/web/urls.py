"""Supervisors' pages built on the rollups: 挂图作战 and the monthly report."""

from django.urls import path

from reports.web import views

app_name = "reports_web"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/monthly/", views.monthly_report, name="monthly_report"),
    path("reports/documents/", views.report_list, name="report_list"),
    path("reports/documents/upload/", views.report_upload, name="report_upload"),
    path("reports/documents/imports/<int:pk>/", views.report_import, name="report_import"),
    path("reports/documents/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/documents/<int:pk>/details/", views.report_details, name="report_details"),
    path("reports/figures/<int:pk>/confirm/", views.figure_confirm, name="figure_confirm"),
    path("reports/figures/<int:pk>/reject/", views.figure_reject, name="figure_reject"),
    path("reports/items/<int:pk>/confirm/", views.item_confirm, name="item_confirm"),
    path("reports/items/<int:pk>/reject/", views.item_reject, name="item_reject"),
    path("reports/findings/", views.findings, name="findings"),
]
