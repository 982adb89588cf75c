"""Regression tests for what the reviewer found in the admin: a district supervisor saw every
unit and user (phone numbers, password hashes, robot secrets) and changed an inspection outside
the district; adding or changing a task returned 500 for everyone."""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.tracker.admin_forms import form_data
from tests.tracker.factories import (
    EvidenceFactory,
    InspectionFactory,
    ProblemFactory,
    TaskFactory,
    UnitFactory,
)
from tracker.demo.loader import load_demo
from tracker.models import Inspection, Task, TaskStatus, Unit, User
from tracker.services import inspections as inspection_services
from tracker.services.users import supervisor_group

pytestmark = pytest.mark.django_db

SECRET = "dingtalk-secret-SEC0123456789"
HOOK = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN-0123456789"


@pytest.fixture
def sam(sam):
    """The district supervisor as the demo sets one up: staff, in the supervisor group."""
    sam.groups.add(supervisor_group())
    return sam


@pytest.fixture
def city_unit_with_robots(city):
    unit = UnitFactory(name="市财政局", parent=city)
    unit.dingtalk_secret = SECRET
    unit.dingtalk_webhook_url = HOOK
    unit.save()
    return unit


def test_district_supervisor_unit_list_holds_only_the_district(client, sam, county, town,
                                                               city_unit_with_robots):
    """A supervisor's unit changelist lists the units of their scope and no other."""
    client.force_login(sam)
    response = client.get(reverse("admin:tracker_unit_changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].queryset) == {county, town}


def test_supervisor_has_no_user_admin(client, sam, bob):
    """User admin is for administrators only: a supervisor gets 403 on its URLs."""
    client.force_login(sam)
    assert client.get(reverse("admin:tracker_user_changelist")).status_code == 403
    assert client.get(reverse("admin:tracker_user_change", args=[bob.pk])).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/tracker/user/" not in index


def test_unit_secrets_are_never_rendered_even_to_administrators(client, root_admin,
                                                                city_unit_with_robots):
    """Robot webhook addresses and the signing secret are write-only for everyone."""
    client.force_login(root_admin)
    page = client.get(reverse("admin:tracker_unit_change", args=[city_unit_with_robots.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert SECRET not in text
    assert "TOKEN-0123456789" not in text


def test_user_change_page_shows_no_password_hash(client, root_admin, bob):
    """Even an administrator sees no password hash or its summary."""
    client.force_login(root_admin)
    text = client.get(reverse("admin:tracker_user_change", args=[bob.pk])).content.decode()
    assert "pbkdf2_sha256" not in text
    assert "salt" not in text.lower()
    assert "哈希" not in text


def test_passwords_change_only_through_djangos_form_and_only_by_administrators(
    client, root_admin, sam, bob
):
    """The change page links to Django's password form; it sets a new password for an
    administrator and is 403 for a supervisor."""
    password_url = reverse("admin:auth_user_password_change", args=[bob.pk])
    client.force_login(sam)
    assert client.get(password_url).status_code == 403
    client.force_login(root_admin)
    change = client.get(reverse("admin:tracker_user_change", args=[bob.pk])).content.decode()
    assert password_url in change
    response = client.post(password_url, {"password1": "Rectify-2026-new",
                                          "password2": "Rectify-2026-new"})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("Rectify-2026-new")


def test_district_supervisor_cannot_change_an_inspection_outside_the_district(
    client, sam, bureau
):
    """A POST to the change page of an inspection aimed at a city bureau is refused (404)
    and changes nothing."""
    inspection = InspectionFactory(target_unit=bureau, title="市教育局专项巡察")
    client.force_login(sam)
    url = reverse("admin:tracker_inspection_change", args=[inspection.pk])
    response = client.post(url, {
        "title": "改掉", "kind": "city_patrol", "mode": "regular", "team": "", "target": "x",
        "feedback_date": "2026-03-01", "problems-TOTAL_FORMS": 0, "problems-INITIAL_FORMS": 0,
    })
    assert response.status_code == 404
    assert Inspection.objects.get(pk=inspection.pk).title == "市教育局专项巡察"


def test_task_add_and_change_work_in_the_admin(client, root_admin, bureau):
    """Adding and changing a task in the admin saves through the services (no 500)."""
    problem = ProblemFactory()
    client.force_login(root_admin)
    add_url = reverse("admin:tracker_task_add")
    response = client.post(add_url, form_data(
        client.get(add_url).content.decode(), problem=problem.pk, title="后台新增任务",
        task_type="by_deadline", lead_unit=bureau.pk, deadline="2026-10-31",
    ))
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Task.objects.get(title="后台新增任务")
    assert task.events.count() == 1
    change_url = reverse("admin:tracker_task_change", args=[task.pk])
    response = client.post(change_url, form_data(
        client.get(change_url).content.decode(), title="后台修改任务", measures="调整",
        deadline="2026-11-30",
    ))
    assert response.status_code == 302, response.content.decode()[:3000]
    task.refresh_from_db()
    assert (task.title, task.deadline) == ("后台修改任务", dt.date(2026, 11, 30))


def test_demo_district_supervisor_sees_only_the_district_in_the_admin(client):
    """The reviewer's walk-through on the demo: linjiang_db lists only 临江区 and its
    townships, no user, no robot secret."""
    load_demo(today=dt.date(2026, 6, 1))
    supervisor = User.objects.get(username="linjiang_db")
    client.force_login(supervisor)
    units = client.get(reverse("admin:tracker_unit_changelist"), {"all": ""})
    district = Unit.objects.get(name="临江区")
    assert set(units.context["cl"].queryset) == set(Unit.objects.subtree_of(district))
    assert Unit.objects.count() == 40
    assert client.get(reverse("admin:tracker_user_changelist")).status_code == 403
    for unit in Unit.objects.subtree_of(district):
        page = client.get(reverse("admin:tracker_unit_change", args=[unit.pk])).content.decode()
        for secret in (unit.dingtalk_secret, unit.dingtalk_webhook_url, unit.wecom_webhook_url):
            assert not secret or secret not in page


def _unit_form(client, unit, **overrides):
    page = reverse("admin:tracker_unit_change", args=[unit.pk])
    return page, form_data(client.get(page).content.decode(), **overrides)


def test_robot_settings_are_written_kept_when_blank_and_cleared_on_request(
    client, root_admin, city_unit_with_robots
):
    """Write-only secrets: a new value is stored, a blank keeps the old one, the checkbox
    clears them all; the page says only whether one is set."""
    unit = city_unit_with_robots
    client.force_login(root_admin)
    page, data = _unit_form(client, unit, new_dingtalk_secret="NEW-SECRET-42")
    assert "已设置，留空则不修改" in client.get(page).content.decode()
    assert client.post(page, data).status_code == 302
    unit.refresh_from_db()
    assert (unit.dingtalk_secret, unit.dingtalk_webhook_url) == ("NEW-SECRET-42", HOOK)

    page, data = _unit_form(client, unit, short_name="财政")
    assert client.post(page, data).status_code == 302
    unit.refresh_from_db()
    assert (unit.short_name, unit.dingtalk_secret) == ("财政", "NEW-SECRET-42")

    page, data = _unit_form(client, unit, clear_robots="on")
    assert client.post(page, data).status_code == 302
    unit.refresh_from_db()
    assert (unit.dingtalk_secret, unit.dingtalk_webhook_url, unit.wecom_webhook_url) == ("", "", "")
    assert "未设置" in client.get(page).content.decode()


@contextmanager
def patch_problem_create():
    """Records the texts of the problems created through the service (and still creates
    them): a spy on our own service, not a mock of an outer edge."""
    calls = []
    original = inspection_services.problem_create

    def spy(**kwargs):
        calls.append(kwargs["text"])
        return original(**kwargs)

    inspection_services.problem_create = spy
    try:
        yield calls
    finally:
        inspection_services.problem_create = original


def test_problems_added_in_the_inspection_form_go_through_the_service(client, sam, county):
    """The problem inline saves through problem_create, so the service's checks apply."""
    inspection = InspectionFactory(target_unit=county)
    client.force_login(sam)
    page = reverse("admin:tracker_inspection_change", args=[inspection.pk])
    data = form_data(client.get(page).content.decode(), **{
        "problems-TOTAL_FORMS": "1", "problems-0-number": "7", "problems-0-aspect": "",
        "problems-0-text": "后台新增的问题", "problems-0-inspection": str(inspection.pk),
    })
    with patch_problem_create() as calls:
        assert client.post(page, data).status_code == 302
    assert calls == ["后台新增的问题"]
    assert inspection.problems.get().text == "后台新增的问题"


def test_a_service_refusal_is_a_message_and_changes_nothing(client, sam, bureau, town):
    """Adding a problem to an inspection the supervisor sees (his township supports one of its
    tasks) but may not edit: the service refuses, the admin shows its message, rolls back
    and answers no 500."""
    inspection = InspectionFactory(target_unit=bureau)
    task = TaskFactory(problem=ProblemFactory(inspection=inspection), lead_unit=bureau)
    task.supporting_units.add(town)
    client.force_login(sam)
    add = reverse("admin:tracker_problem_add")
    data = form_data(client.get(add).content.decode(), inspection=inspection.pk, number=9,
                     text="越权新增的问题")
    response = client.post(add, data, follow=True)
    assert response.status_code == 200
    assert "您无权管理“市教育局”的巡视巡察及反馈问题" in response.content.decode()
    assert not inspection.problems.filter(text="越权新增的问题").exists()


def test_batch_close_in_the_admin_refuses_a_task_without_evidence_and_says_why(
    client, sam, town
):
    """The admin has no confirmation box: 销号 without evidence is confirmed on the review page,
    as on the API and the pages (tracker.services.review)."""
    bare = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED, title="无材料任务")
    proven = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED, title="有材料任务")
    EvidenceFactory(task=proven)
    client.force_login(sam)
    response = client.post(reverse("admin:tracker_task_changelist"), {
        "action": "close_selected", "_selected_action": [bare.pk, proven.pk], "index": 0,
    }, follow=True)
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("无材料任务" in m and "尚未上传佐证材料" in m for m in said), said
    assert "已销号1条" in said
    bare.refresh_from_db()
    proven.refresh_from_db()
    assert (bare.status, proven.status) == (TaskStatus.SUBMITTED, TaskStatus.COMPLETED)


def test_a_service_refusal_shows_the_form_again_with_what_was_typed(client, root_admin, bureau):
    """The refusal is shown on the form, beside the field it names, and the typed values stay
    in the form: nothing is lost, nothing is saved."""
    task = TaskFactory(lead_unit=bureau, title="原任务名称", deadline=dt.date(2026, 12, 31))
    client.force_login(root_admin)
    change_url = reverse("admin:tracker_task_change", args=[task.pk])
    response = client.post(change_url, form_data(
        client.get(change_url).content.decode(), title="改过的任务名称", measures="新的措施",
        deadline="2099-01-01",
    ))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "不能晚于" in " ".join(form.errors["deadline"])
    assert "过远" in " ".join(form.non_field_errors())
    page = response.content.decode()
    assert 'value="改过的任务名称"' in page
    assert "新的措施" in page
    task.refresh_from_db()
    assert (task.title, task.deadline) == ("原任务名称", dt.date(2026, 12, 31))
