"""Issue 15, 回头看: the demo has re-checks due, awaiting confirmation and confirmed, each with
its history, and loading it again adds none."""

import pytest

from tests.tracker.test_demo import TODAY
from tracker.demo.loader import load_demo
from tracker.models import RecheckState, TaskAction, TaskEvent, TaskRecheck

pytestmark = pytest.mark.django_db


def test_demo_has_rechecks_due_reported_and_confirmed_and_loads_them_once():
    summary = load_demo(today=TODAY)
    states = set(TaskRecheck.objects.values_list("state", flat=True))
    assert {RecheckState.DUE, RecheckState.REPORTED, RecheckState.CONFIRMED} <= states
    assert summary.rechecks_reported == 2
    assert TaskEvent.objects.filter(action=TaskAction.RECHECK_DUE).count() == (
        TaskRecheck.objects.exclude(state=RecheckState.SCHEDULED).count())
    before = (TaskRecheck.objects.count(), TaskEvent.objects.count())
    again = load_demo(today=TODAY)
    assert again.rechecks_reported == 0
    assert (TaskRecheck.objects.count(), TaskEvent.objects.count()) == before
