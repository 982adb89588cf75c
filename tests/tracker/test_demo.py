"""The demo city: dozens of units, every role, several inspection kinds, every status, deadlines
past and future, history written through the services; loading it twice changes nothing."""

import datetime as dt

import pytest
from django.contrib.auth import authenticate

from tracker.demo.content import DEMO_PASSWORD
from tracker.demo.loader import load_demo
from tracker.models import Inspection, Role, Task, TaskEvent, TaskStatus, Unit, User

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 24)


def test_demo_covers_every_status_role_and_kind():
    summary = load_demo(today=TODAY)
    assert summary.units_created == Unit.objects.count() >= 36
    assert set(Task.objects.values_list("status", flat=True)) == set(TaskStatus.values)
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert Inspection.objects.values("kind").distinct().count() >= 4
    assert Task.objects.overdue(TODAY).exists()
    assert Task.objects.filter(deadline__gte=TODAY).exists()
    # Every task's history starts with its creation and ends in its current status.
    for task in Task.objects.all():
        events = list(task.events.order_by("at", "id"))
        assert events[0].action == "create"
        assert events[-1].to_status == task.status
        assert all(e.at.date() <= TODAY for e in events)


def test_demo_logins_work_with_the_printed_password():
    summary = load_demo(today=TODAY)
    for username, password, _ in summary.logins:
        assert password == DEMO_PASSWORD
        assert authenticate(username=username, password=password) is not None


def test_loading_the_demo_twice_changes_nothing():
    load_demo(today=TODAY)
    counts = (Unit.objects.count(), User.objects.count(), Task.objects.count(),
              TaskEvent.objects.count())
    again = load_demo(today=TODAY + dt.timedelta(days=3))
    assert (again.units_created, again.users_created, again.tasks_created) == (0, 0, 0)
    assert counts == (Unit.objects.count(), User.objects.count(), Task.objects.count(),
                      TaskEvent.objects.count())


def test_demo_report_is_confirmed_and_one_closure_ahead_of_the_ledger():
    from reports.demo import load_demo_report
    from reports.selectors import reconciliation

    load_demo(today=TODAY)
    supervisor = User.objects.get(username="zgb")
    assert load_demo_report(today=TODAY, supervisor=supervisor)
    assert not load_demo_report(today=TODAY, supervisor=supervisor)  # idempotent
    inspection = Inspection.objects.get(title__startswith="省委第三巡视组")
    (finding,) = reconciliation(user=supervisor, inspection=inspection)
    assert [d.field for d in finding.disagreements] == ["completed", "not_completed"]


def test_demo_has_notices_in_every_state_and_loads_them_once():
    """Issue 15: the demo shows 督办单 in every state (待回复, 部分回复, 已回复, 逾期未回复)."""
    from tracker.models import NoticeState, SupervisionNotice
    from tracker.notice_selectors import notice_list

    summary = load_demo(today=TODAY)
    admin = User.objects.get(username="admin")
    states = set(notice_list(user=admin, today=TODAY).values_list("state", flat=True))
    assert states == set(NoticeState.values)
    assert summary.notices_created == SupervisionNotice.objects.count() == 4
    assert load_demo(today=TODAY + dt.timedelta(days=3)).notices_created == 0
    assert SupervisionNotice.objects.count() == 4


def test_demo_shows_the_unit_ranking():
    """考评: the demo has schemes (last year's and this year's) and last month's ranking has
    units with different scores, best and lagging."""
    from tracker.figures.scoring import default_period, scheme_in_force, unit_scores
    from tracker.models import ScoringScheme

    summary = load_demo(today=TODAY)
    assert summary.scoring_schemes_created == ScoringScheme.objects.count() == 2
    assert load_demo(today=TODAY).scoring_schemes_created == 0
    assert scheme_in_force(TODAY).name == "本年度考评方案"
    assert scheme_in_force(dt.date(TODAY.year - 1, 12, 31)).name == "上年度考评方案"
    board = unit_scores(user=User.objects.get(username="zgb"),
                        period=default_period(today=TODAY),
                        now=dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC))
    assert len(board.rows) >= 6
    assert len({row.score for row in board.rows}) >= 3
    assert board.best
    assert board.lagging
    assert any(row.due for row in board.rows)


def test_demo_shows_acknowledgement_awaited_explicit_and_implicit():
    """Issue 15 (签收): the demo has tasks awaiting 签收, acknowledged with the button, and
    acknowledged by the lead unit's first progress note; who and when is on each."""
    load_demo(today=TODAY)
    assert Task.objects.filter(ack_requested_at__isnull=False).exists()
    events = TaskEvent.objects.filter(action="acknowledge")
    assert events.filter(data__implicit="progress").exists()
    assert events.exclude(data__has_key="implicit").exists()
    acknowledged = Task.objects.filter(acknowledged_at__isnull=False)
    assert acknowledged.exists()
    assert not acknowledged.filter(acknowledged_by__isnull=True).exists()
