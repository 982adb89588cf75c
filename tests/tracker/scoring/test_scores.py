"""Unit scores from a hand-built ledger (conftest.py gives every figure by hand), the weights
in force, the acceptance point (the same period gives the same scores from the history, as of
its end), scope, and the constant number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import ScoringSchemeFactory, TaskFactory, UnitFactory
from tests.tracker.scoring.conftest import (
    AFTER_MAY,
    A,
    S,
    at,
    close,
    create,
    event,
    notice_part,
)
from tracker.errors import InvalidInput
from tracker.figures.scoring import (
    custom_period,
    period_from_key,
    scheme_in_force,
    unit_scores,
)

pytestmark = pytest.mark.django_db


def by_name(board):
    return {row.name: row for row in board.rows}


def figures(row):
    return (row.tasks, row.due, row.on_time, row.overdue_tasks, row.overdue_days,
            row.send_backs, row.notices, row.notices_late, row.score, row.rank)


def test_scores_from_a_hand_built_ledger(ledger, may, chief):
    board = unit_scores(user=chief, period=may, now=AFTER_MAY)
    rows = by_name(board)
    assert set(rows) == {"市教育局", "湖滨街道"}  # 东湖区's only task came after May
    bureau, town = rows["市教育局"], rows["湖滨街道"]
    assert (bureau.tasks, bureau.due, bureau.on_time) == (4, 3, 1)
    assert bureau.on_time_rate == Decimal("0.3333")
    assert (bureau.overdue_tasks, bureau.overdue_days, bureau.send_backs) == (1, 4, 1)
    assert (bureau.notices, bureau.notices_late) == (1, 1)
    assert bureau.deductions["on_time"] == Decimal("26.67")
    assert bureau.score == Decimal("61.33")
    assert (town.tasks, town.due, town.on_time, town.overdue_days, town.send_backs) == (
        2, 1, 1, 0, 0)
    assert (town.notices, town.notices_late) == (2, 1)
    assert town.score == Decimal("89.00")
    assert [r.name for r in board.rows] == ["湖滨街道", "市教育局"]
    assert (town.rank, bureau.rank) == (1, 2)
    assert board.final
    assert board.as_of == dt.date(2026, 5, 31)
    assert board.weights.effective_from is None  # the built-in defaults


def test_reproducible_after_later_changes(ledger, may, chief):
    """Acceptance: the same period gives the same scores from the history, as of its end."""
    before = [figures(r) for r in unit_scores(user=chief, period=may, now=AFTER_MAY).rows]
    t3, t4, t5, t6, clerk = (ledger[k] for k in ("t3", "t4", "t5", "t6", "clerk"))
    # After May: T3 moved and closed, T4 sent back, T5 closed, T6 reopened, late replies,
    # a new notice, and the task rows themselves edited.
    event(t3, at(6, 1), A.EXTEND_DEADLINE, S.IN_PROGRESS, S.IN_PROGRESS, chief,
          deadline_from=dt.date(2026, 5, 25), deadline_to=dt.date(2026, 7, 30))
    close(t3, at(6, 2), at(6, 3), chief)
    event(t4, at(6, 2), A.SUBMIT, S.IN_PROGRESS, S.SUBMITTED, clerk)
    event(t4, at(6, 3), A.SEND_BACK, S.SUBMITTED, S.IN_PROGRESS, chief)
    close(t5, at(6, 4), at(6, 5), chief)
    event(t6, at(6, 6), A.REOPEN, S.COMPLETED, S.IN_PROGRESS, chief)
    n3 = ledger["n3"]
    n3.reply, n3.replied_at, n3.replied_by = "补报", at(6, 2), clerk
    n3.save()
    notice_part(t5, t5.lead_unit, at(6, 5), dt.date(2026, 6, 12), chief)
    type(t3).objects.filter(pk=t3.pk).update(
        deadline=dt.date(2026, 7, 30), status=S.COMPLETED, completed_at=at(6, 3),
        closed_at=at(6, 3))
    assert [figures(r) for r in unit_scores(user=chief, period=may, now=AFTER_MAY).rows] == before
    far_later = dt.datetime(2031, 1, 1, tzinfo=AFTER_MAY.tzinfo)
    assert [figures(r) for r in unit_scores(user=chief, period=may, now=far_later).rows] == before
    # …while June sees them: T4's send-back counts there.
    june = period_from_key("2026-06", today=far_later.date())
    assert by_name(unit_scores(user=chief, period=june, now=far_later))["市教育局"].send_backs == 1


def test_weights_change_affects_later_periods_only(ledger, may, chief):
    before = by_name(unit_scores(user=chief, period=may, now=AFTER_MAY))["市教育局"].score
    ScoringSchemeFactory(name="2026年6月起", effective_from=dt.date(2026, 6, 1),
                         notice_weight=Decimal("10"))
    assert scheme_in_force(dt.date(2026, 5, 31)).effective_from is None
    assert by_name(unit_scores(user=chief, period=may, now=AFTER_MAY))["市教育局"].score == before
    june = period_from_key("2026-06", today=dt.date(2026, 7, 10))
    board = unit_scores(user=chief, period=june,
                        now=dt.datetime(2026, 7, 10, tzinfo=AFTER_MAY.tzinfo))
    assert board.weights.name == "2026年6月起"
    assert board.weights.notice_weight == Decimal("10")
    # A scheme effective within May (before its end) governs May.
    ScoringSchemeFactory(name="五月方案", effective_from=dt.date(2026, 5, 31),
                         base_score=Decimal("90"))
    later = by_name(unit_scores(user=chief, period=may, now=AFTER_MAY))["市教育局"].score
    assert later == before - Decimal("10")


def test_scope_supervisor_sees_only_the_subtree(ledger, may, sam, chief):
    rows = by_name(unit_scores(user=sam, period=may, now=AFTER_MAY))
    assert set(rows) == {"湖滨街道"}
    assert rows["湖滨街道"].score == by_name(unit_scores(user=chief, period=may,
                                                         now=AFTER_MAY))["湖滨街道"].score


def test_best_and_lagging(ledger, may, chief):
    board = unit_scores(user=chief, period=may, now=AFTER_MAY, top=1)
    assert [r.name for r in board.best] == ["湖滨街道"]
    assert [r.name for r in board.lagging] == ["市教育局"]
    assert [r.mark for r in board.rows] == ["best", "lagging"]


def test_ties_share_a_rank(chief, city, may):
    units = [UnitFactory(name=f"并列单位{n}", parent=city) for n in range(3)]
    for unit in units:
        create(f"{unit.name}任务", unit, dt.date(2026, 6, 30), chief)
    board = unit_scores(user=chief, period=may, now=AFTER_MAY)
    assert [r.rank for r in board.rows] == [1, 1, 1]
    assert {r.score for r in board.rows} == {Decimal("100.00")}


def test_score_never_below_zero(chief, bureau, may):
    task = create("逾期很久", bureau, dt.date(2025, 1, 6), chief)
    board = unit_scores(user=chief, period=may, now=AFTER_MAY)
    assert board.rows[0].overdue_days > 200
    assert board.rows[0].score == Decimal("0.00")
    assert board.rows[0].name == task.lead_unit.name


def _build(units: int, tasks: int, parent, chief):
    for n in range(units):
        unit = UnitFactory(name=f"规模单位{units}-{n}", parent=parent)
        for m in range(tasks):
            task = create(f"任务{n}-{m}", unit, dt.date(2026, 5, 5 + m), chief)
            if m % 2:
                close(task, at(5, 20), at(5, 21), chief)
            else:
                event(task, at(5, 10), A.SUBMIT, S.IN_PROGRESS, S.SUBMITTED, chief)
                event(task, at(5, 11), A.SEND_BACK, S.SUBMITTED, S.IN_PROGRESS, chief)
            notice_part(task, unit, at(5, 12), dt.date(2026, 5, 19), chief)


def test_query_count_is_constant(chief, city, county, may):
    _build(2, 1, city, chief)
    with CaptureQueriesContext(connection) as small:
        unit_scores(user=chief, period=may, now=AFTER_MAY)
    _build(6, 3, county, chief)
    with CaptureQueriesContext(connection) as large:
        board = unit_scores(user=chief, period=may, now=AFTER_MAY)
    assert len(board.rows) == 8
    assert len(large) == len(small) <= 6


def test_periods():
    today = dt.date(2026, 7, 15)
    assert period_from_key("2026-Q2", today=today).end == dt.date(2026, 6, 30)
    assert period_from_key("2026-02", today=today).end == dt.date(2026, 2, 28)
    assert period_from_key("2026", today=today).label == "2026年度"
    custom = period_from_key("2026-05-03~2026-06-02", today=today)
    assert (custom.start, custom.end) == (dt.date(2026, 5, 3), dt.date(2026, 6, 2))
    for bad in ("2026-13", "本月", "2026-08", "1999-12", "2024-01-01~2025-06-01",
                "2026-06-02~2026-05-03"):
        with pytest.raises(InvalidInput):
            period_from_key(bad, today=today)
    with pytest.raises(InvalidInput, match="不能超过366天"):
        custom_period(dt.date(2025, 1, 1), dt.date(2026, 1, 5), today=today)


def test_running_period_is_scored_as_of_today(chief, bureau):
    task = TaskFactory(lead_unit=bureau)
    create("本月任务", bureau, dt.date(2026, 6, 30), chief)
    board = unit_scores(user=chief, period=period_from_key("2026-06", today=dt.date(2026, 6, 10)),
                        now=dt.datetime(2026, 6, 10, 9, tzinfo=AFTER_MAY.tzinfo))
    assert not board.final
    assert board.as_of == dt.date(2026, 6, 10)
    assert board.rows[0].due == 0  # due 6/30: not yet due on 6/10
    assert board.rows[0].tasks == 1  # the task without history did not exist then
    assert task.pk
