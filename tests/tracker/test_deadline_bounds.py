"""A deadline of 9999-12-31 is a typing slip: every way of setting one (task, edit, extension,
inspection, the API) refuses dates beyond DEADLINE_HORIZON_YEARS or before DEADLINE_EARLIEST,
in Chinese, naming the limit."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tracker.deadlines import deadline_bounds
from tracker.errors import InvalidInput
from tracker.models import Task, TaskStatus
from tracker.services import extensions, inspections, tasks

pytestmark = pytest.mark.django_db
FAR = dt.date(9999, 12, 31)


def _latest() -> dt.date:
    return deadline_bounds(timezone.localdate())[1]


def test_the_horizon_is_ten_years_and_the_earliest_date_2000(settings):
    earliest, latest = deadline_bounds(dt.date(2026, 12, 1))
    assert earliest == dt.date(2000, 1, 1)
    assert latest == dt.date(2036, 12, 1)
    assert deadline_bounds(dt.date(2028, 2, 29))[1] == dt.date(2038, 2, 28)


def test_creating_a_task_beyond_the_horizon_is_refused(chief, bureau):
    problem = ProblemFactory()
    with pytest.raises(InvalidInput) as refused:
        tasks.task_create(problem=problem, actor=chief, title="整改", lead_unit=bureau,
                          deadline=FAR)
    assert "过远" in refused.value.message
    assert f"{_latest():%Y年%m月%d日}" in refused.value.message
    assert refused.value.fields == {"deadline": f"不能晚于{_latest():%Y年%m月%d日}"}
    assert not Task.objects.exists()
    on_the_limit = tasks.task_create(problem=problem, actor=chief, title="整改",
                                     lead_unit=bureau, deadline=_latest())
    assert on_the_limit.deadline == _latest()


def test_a_deadline_before_2000_is_refused(chief, bureau):
    with pytest.raises(InvalidInput, match="过早"):
        tasks.task_create(problem=ProblemFactory(), actor=chief, title="整改",
                          lead_unit=bureau, deadline=dt.date(1999, 12, 31))


def test_moving_a_deadline_beyond_the_horizon_is_refused(chief, bureau_task):
    with pytest.raises(InvalidInput, match="过远"):
        tasks.task_update(task=bureau_task, actor=chief, deadline=FAR)
    bureau_task.refresh_from_db()
    assert bureau_task.deadline != FAR


def test_an_extension_beyond_the_horizon_is_refused(alice, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    with pytest.raises(InvalidInput, match=r"申请延至的日期.*过远"):
        extensions.extension_request(task=task, actor=alice, requested_deadline=FAR,
                                     reason="工程量大")


def test_an_inspection_deadline_beyond_the_horizon_is_refused(chief):
    with pytest.raises(InvalidInput, match=r"整改时限.*过远"):
        inspections.inspection_create(title="巡察", kind="city_patrol", target="某局",
                                      feedback_date=dt.date(2026, 5, 1),
                                      rectification_deadline=FAR, actor=None)
    inspection = InspectionFactory()
    with pytest.raises(InvalidInput, match="过远"):
        inspections.inspection_update(inspection=inspection, actor=chief,
                                      rectification_deadline=FAR)


def test_the_api_answers_400_naming_the_field(client_for, chief, bureau_task):
    version = client_for(chief).get(f"/api/v1/tasks/{bureau_task.pk}/").json()["version"]
    response = client_for(chief).patch(f"/api/v1/tasks/{bureau_task.pk}/",
                                       {"deadline": "9999-12-31", "version": version},
                                       format="json")
    assert response.status_code == 400
    body = response.json()
    assert "过远" in body["detail"]
    assert "deadline" in body["fields"]
