"""Issue 15, 回头看 on every face: the close forms require the verdict, the API and the pages
report and decide through the services, the list is scoped and costs the same queries for 2
and for 6 re-checks, the rollups count re-checks due, done and failed by grouping and scope."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import EvidenceFactory, TaskFactory, TaskRecheckFactory
from tracker.figures.rollups import Grouping, RollupFilters, rollup
from tracker.models import RecheckState, TaskRecheck, TaskStatus

pytestmark = pytest.mark.django_db


def _reported(recheck, by):
    from django.utils import timezone

    TaskRecheck.objects.filter(pk=recheck.pk).update(
        state=RecheckState.REPORTED, recurred=True, report_note="部分反弹", reported_by=by,
        reported_at=timezone.now())


def test_api_close_without_verdict_is_400_and_changes_nothing(client_for, sam, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    EvidenceFactory(task=task)
    refused = client_for(sam).post(f"/api/v1/tasks/{task.pk}/close/",
                                   {"version": task.version}, format="json")
    assert refused.status_code == 400
    assert "effectiveness" in refused.json()["fields"]
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED
    ok = client_for(sam).post(f"/api/v1/tasks/{task.pk}/close/",
                              {"version": task.version, "effectiveness": "basically_effective",
                               "root_cause": "台账管理松散", "recheck_on": None}, format="json")
    assert ok.status_code == 200
    task.refresh_from_db()
    assert (task.effectiveness, task.root_cause) == ("basically_effective", "台账管理松散")
    assert not TaskRecheck.objects.filter(task=task).exists()


def test_page_close_without_verdict_shows_the_reason_and_keeps_the_task(sam, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    client = Client()
    client.force_login(sam)
    response = client.post(f"/tasks/{task.pk}/close/", {
        "close-version": task.version, "close-confirm_no_evidence": "on"})
    assert response.status_code == 400
    assert "请选择整改成效" in response.content.decode()
    response = client.post(f"/tasks/{task.pk}/close/", {
        "close-version": task.version, "close-confirm_no_evidence": "on",
        "close-effectiveness": "effective", "close-recheck_on": "2099-01-01"})
    assert response.status_code == 400  # more than five years ahead
    response = client.post(f"/tasks/{task.pk}/close/", {
        "close-version": task.version, "close-confirm_no_evidence": "on",
        "close-effectiveness": "effective", "close-no_recheck": "on"})
    assert response.status_code == 302
    assert not TaskRecheck.objects.filter(task=task).exists()


def test_api_report_then_fail_reopens_the_task(client_for, bob, sam, town):
    recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    answer = client_for(bob).post(f"/api/v1/rechecks/{recheck.pk}/report/",
                                  {"recurred": True, "note": "问题有反弹"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["state"] == "reported"
    twice = client_for(bob).post(f"/api/v1/rechecks/{recheck.pk}/report/",
                                 {"recurred": True, "note": "再报"}, format="json")
    assert twice.status_code == 409
    no_reason = client_for(sam).post(f"/api/v1/rechecks/{recheck.pk}/fail/", {}, format="json")
    assert no_reason.status_code == 400
    failed = client_for(sam).post(f"/api/v1/rechecks/{recheck.pk}/fail/",
                                  {"note": "问题反弹"}, format="json")
    assert failed.status_code == 200
    assert failed.json()["task"]["status"] == TaskStatus.IN_PROGRESS


def test_api_list_is_scoped_and_filtered(client_for, bob, alice, sam, town, bureau):
    mine = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    TaskRecheckFactory(task__lead_unit=bureau, state=RecheckState.DUE)
    TaskRecheckFactory(task__lead_unit=town, state=RecheckState.SCHEDULED)
    ids = [r["id"] for r in client_for(bob).get("/api/v1/rechecks/?state=due").json()["results"]]
    assert ids == [mine.pk]
    assert len(client_for(alice).get("/api/v1/rechecks/").json()["results"]) == 1
    assert client_for(alice).get(f"/api/v1/rechecks/{mine.pk}/").status_code == 404


def _list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_page_and_api_cost_the_same_queries_for_2_and_6_rechecks(sam, town, bob):
    page, api = Client(), Client()
    page.force_login(sam)
    api.force_login(sam)
    counts = []
    for size in (2, 6):
        while TaskRecheck.objects.count() < size:
            recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
        _reported(recheck, bob)
        counts.append((_list_queries(page, "/rechecks/"),
                       _list_queries(page, "/rechecks/?tab=reported"),
                       _list_queries(api, "/api/v1/rechecks/")))
    assert counts[0] == counts[1]


def test_page_report_and_confirm_from_the_list(sam, bob, town):
    recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    officer = Client()
    officer.force_login(bob)
    html = officer.get("/rechecks/").content.decode()
    assert recheck.task.title in html
    assert "recheck-report-form" in html
    refused = officer.post(f"/rechecks/{recheck.pk}/report/", {"recurred": "", "note": "x"})
    assert refused.status_code == 400
    done = officer.post(f"/rechecks/{recheck.pk}/report/",
                        {"recurred": "no", "note": "未反弹", "next": "/rechecks/"})
    assert done.status_code == 302
    not_yours = officer.post(f"/rechecks/{recheck.pk}/confirm/", {})
    assert not_yours.status_code == 403
    supervisor = Client()
    supervisor.force_login(sam)
    assert supervisor.post(f"/rechecks/{recheck.pk}/confirm/", {}).status_code == 302
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.CONFIRMED


def _counts(figures):
    return (figures.recheck_due, figures.recheck_done, figures.recheck_failed)


def test_rollup_counts_rechecks_by_grouping_and_scope(chief, sam, town, bureau, county):
    _seed(town, bureau, chief)
    total = rollup(user=chief, filters=RollupFilters())
    assert _counts(total.total) == (3, 2, 1)
    by_unit = {row.key: _counts(row.figures)
               for row in rollup(user=chief, group_by=Grouping.UNIT,
                                 filters=RollupFilters()).rows}
    assert by_unit[town.pk] == by_unit[county.pk] == (2, 1, 1)
    assert by_unit[bureau.pk] == (1, 1, 0)
    scoped = rollup(user=sam, filters=RollupFilters())
    assert _counts(scoped.total) == (2, 1, 1)  # sam supervises the county only
    month = rollup(user=chief, group_by=Grouping.MONTH, filters=RollupFilters())
    assert {row.key: _counts(row.figures) for row in month.rows}["2026-03"] == (3, 2, 1)
    by_inspection = rollup(user=chief, group_by=Grouping.INSPECTION, filters=RollupFilters())
    assert sum(row.figures.recheck_due for row in by_inspection.rows) == 3
    past = rollup(user=chief, filters=RollupFilters(as_of=dt.date(2026, 6, 30)))
    assert _counts(past.total) == (0, 0, 0)


def _seed(town, bureau, reporter):
    from django.utils import timezone

    for unit, states in ((town, ["due", "reported", "confirmed", "failed", "scheduled"]),
                         (bureau, ["due", "confirmed"])):
        for state in states:
            task = TaskFactory(lead_unit=unit, status=TaskStatus.COMPLETED,
                               deadline=dt.date(2026, 3, 31))
            recheck = TaskRecheckFactory(task=task)
            fields = {"state": state}
            if state in ("reported", "confirmed", "failed"):
                fields.update(recurred=False, report_note="x", reported_by=reporter,
                              reported_at=timezone.now())
            if state in ("confirmed", "failed"):
                fields.update(decided_by=reporter, decided_at=timezone.now())
            TaskRecheck.objects.filter(pk=recheck.pk).update(**fields)


def test_rollup_rechecks_cost_one_query_whatever_the_size(chief, town, bureau):
    counts = []
    for _ in range(2):
        _seed(town, bureau, chief)
        with CaptureQueriesContext(connection) as ctx:
            rollup(user=chief, group_by=Grouping.UNIT, filters=RollupFilters())
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert sum("tracker_taskrecheck" in q["sql"] for q in ctx.captured_queries) == 1
