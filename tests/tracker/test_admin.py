"""The admin in Chinese: every model's list and form render, with filters and search, history
is read-only, and a supervisor's admin lists are scoped to their units."""

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.tracker.factories import (
    DeadlineExtensionFactory,
    EvidenceFactory,
    ProgressReportFactory,
    TaskEventFactory,
    TaskFactory,
)
from tracker.models import (
    DeadlineExtension,
    Evidence,
    Inspection,
    Problem,
    ProgressReport,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
    User,
)
from tracker.services.users import supervisor_group

pytestmark = pytest.mark.django_db

REGISTERED = [m for m in admin.site._registry if m._meta.app_label in ("tracker", "reports")]
LEDGER_MODELS = [Unit, User, Inspection, Problem, Task, TaskEvent, ProgressReport, Evidence,
                 DeadlineExtension]


@pytest.fixture
def ledger(bureau, town):
    task = TaskFactory(lead_unit=bureau, deadline=dt.date(2020, 1, 1))
    TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    TaskEventFactory(task=task)
    ProgressReportFactory(task=task)
    EvidenceFactory(task=task)
    DeadlineExtensionFactory(task=task)
    return task


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_every_model_list_page_renders_in_chinese_with_search(client, root_admin, ledger, model):
    client.force_login(root_admin)
    listing = client.get(admin_url(model, "changelist"), {"q": "测试"})
    assert listing.status_code == 200
    assert "巡视整改任务跟踪" in listing.content.decode()


@pytest.mark.parametrize("model", LEDGER_MODELS, ids=lambda m: m.__name__)
def test_ledger_change_pages_render(client, root_admin, ledger, model):
    client.force_login(root_admin)
    change = client.get(admin_url(model, "change", model.objects.first().pk))
    assert change.status_code == 200


def test_overdue_filter_lists_only_overdue_tasks(client, root_admin, ledger):
    client.force_login(root_admin)
    response = client.get(reverse("admin:tracker_task_changelist"), {"overdue": "yes"})
    assert list(response.context["cl"].queryset) == [ledger]


def test_history_cannot_be_added_or_changed_in_admin(client, root_admin, ledger):
    client.force_login(root_admin)
    event = ledger.events.first()
    assert client.get(reverse("admin:tracker_taskevent_add")).status_code == 403
    page = client.get(reverse("admin:tracker_taskevent_change", args=[event.pk])).content.decode()
    assert 'name="note"' not in page  # shown, not editable


def test_supervisor_admin_lists_only_tasks_in_scope(client, sam, ledger, town):
    sam.groups.add(supervisor_group())
    client.force_login(sam)
    response = client.get(reverse("admin:tracker_task_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == list(Task.objects.filter(lead_unit=town))
    hidden = client.get(reverse("admin:tracker_task_change", args=[ledger.pk]))
    assert hidden.status_code == 404  # out of scope: not found, never redirected or shown
