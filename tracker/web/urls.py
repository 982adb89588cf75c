"""The ledger's pages for people, at the site root."""

from django.urls import path

from tracker.web import ledger_views, views

app_name = "web"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/progress/", views.task_progress, name="task_progress"),
    path("tasks/<int:pk>/start/", views.task_start, name="task_start"),
    path("tasks/<int:pk>/evidence/", views.task_evidence, name="task_evidence"),
    path("tasks/<int:pk>/submit/", views.task_submit, name="task_submit"),
    path("tasks/<int:pk>/close/", views.task_close, name="task_close"),
    path("tasks/<int:pk>/send-back/", views.task_send_back, name="task_send_back"),
    path("tasks/<int:pk>/mark-basically-completed/", views.task_mark_basically_completed,
         name="task_mark_basically_completed"),
    path("tasks/<int:pk>/mark-long-term/", views.task_mark_long_term,
         name="task_mark_long_term"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/extension/", views.task_extension_request,
         name="task_extension_request"),
    path("extensions/<int:pk>/approve/", views.extension_approve, name="extension_approve"),
    path("extensions/<int:pk>/reject/", views.extension_reject, name="extension_reject"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("review/", views.review, name="review"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.inbox_mark_read, name="inbox_mark_read"),
    path("ledger/", ledger_views.ledger, name="ledger"),
    path("ledger/import/", ledger_views.ledger_import, name="ledger_import"),
    path("ledger/export/", ledger_views.ledger_export, name="ledger_export"),
    path("ledger/template/", ledger_views.ledger_template, name="ledger_template"),
    path("ledger/jobs/<int:pk>/", ledger_views.ledger_job, name="ledger_job"),
    path("ledger/jobs/<int:pk>/status/", ledger_views.ledger_job_status,
         name="ledger_job_status"),
    path("ledger/jobs/<int:pk>/confirm/", ledger_views.ledger_job_confirm,
         name="ledger_job_confirm"),
    path("ledger/jobs/<int:pk>/download/", ledger_views.ledger_job_download,
         name="ledger_job_download"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
]
