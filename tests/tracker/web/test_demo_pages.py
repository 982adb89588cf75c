"""Every page works for the demo users of the run command,
logging in through the login page with the demo password."""

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from tracker.demo.content import DEMO_PASSWORD, USERS
from tracker.demo.loader import load_demo
from tracker.models import Role, Task, User
from tracker.selectors import inspections_for_filter, task_list

pytestmark = pytest.mark.django_db

OFFICER_PAGES = ["/", "/tasks/", "/tasks/?status=overdue", "/password/", "/inbox/", "/ledger/"]
SUPERVISOR_PAGES = [*OFFICER_PAGES, "/dashboard/", "/review/", "/reports/monthly/",
                    "/reports/documents/", "/reports/findings/"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def demo():
    load_demo(today=dt.date.today())


@pytest.mark.parametrize("username", [u[0] for u in USERS])
def test_every_page_works_for_each_demo_user(demo, username):
    user = User.objects.get(username=username)
    client = Client()
    response = client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    supervises = user.role in (Role.SUPERVISOR, Role.ADMIN)
    for path in SUPERVISOR_PAGES if supervises else OFFICER_PAGES:
        response = client.get(path, follow=True)
        assert response.status_code == 200, (username, path)
    visible = list(task_list(user=user).order_by("id"))
    assert visible, f"{username} sees no demo task"
    for task in visible:
        assert client.get(f"/tasks/{task.pk}/").status_code == 200, (username, task.pk)
    hidden = Task.objects.exclude(pk__in=[t.pk for t in visible]).first()
    if hidden is not None:
        assert client.get(f"/tasks/{hidden.pk}/").status_code == 404
    exported = client.get("/ledger/export/")
    assert exported.status_code == 200, username
    assert exported["Content-Type"] == XLSX
    load_workbook(io.BytesIO(exported.content))  # a workbook openpyxl reads
    if supervises:
        inspection = inspections_for_filter(user=user).first()
        findings = client.get(f"/reports/findings/?inspection={inspection.pk}")
        assert findings.status_code == 200, username
        assert client.get(f"/dashboard/?inspection={inspection.pk}").status_code == 200
        report = client.get(f"/reports/monthly/?inspection={inspection.pk}"
                            f"&as_of={dt.date.today().isoformat()}")
        assert report.status_code == 200
        assert report["Content-Type"].endswith("wordprocessingml.document")
    else:
        for path in ("/dashboard/", "/reports/documents/", "/reports/findings/"):
            assert client.get(path).status_code == 403, (username, path)
        # Officers may import (their rows' progress and status only: docs/ledger-excel.md);
        # an empty form is refused as bad input.
        assert client.post("/ledger/import/").status_code == 400
