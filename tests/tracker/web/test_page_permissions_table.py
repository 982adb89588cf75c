"""Acceptance: every form and action on the pages gives each role the same answer as the API
for the same user and object, and "may manage a task" is decided by its lead unit only.

The world: a task led by bob's township (湖滨街道, inside 东湖区), with 市财政局 as a
supporting unit.
    own          bob   — officer of the lead unit
    support      fay   — officer of the supporting unit (sees the task, contributes to it)
    other        alice — officer of an unrelated unit (市教育局): the task is out of sight
    sup_in       sam   — supervisor over 东湖区: manages the task
    sup_support  fin   — supervisor over 市财政局 only: sees the task through its supporting
                         unit but does not manage it (the district-supervisor finding, mirrored)
    admin        root  — administrator
    anon               — not signed in

Each case is run twice, on fresh worlds: once through the page, once through the API. Both
must give the outcome the table states: OK (done), NO (refused, nothing changed), HIDDEN (404,
nothing changed) or ANON (sent to log in / 401).
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from reports.models import ExtractedFigure, ExtractedItem, ReviewState, SourceReport
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
)
from tests.tracker.factories import (
    DeadlineExtensionFactory,
    SupervisionNoticeItemFactory,
    TaskFactory,
    TaskRecheckFactory,
    UnitFactory,
    UserFactory,
)
from tracker.models import (
    CommentMention,
    DeadlineExtension,
    Evidence,
    Inspection,
    Problem,
    ProgressReport,
    Role,
    SupervisionNotice,
    SupervisionNoticeItem,
    Task,
    TaskComment,
    TaskEvent,
    TaskRecheck,
    TaskStatus,
    TaskWatcher,
    UnitKind,
)
from tracker.services.tasks import ACTIONS, allowed_actions
from tracker.workdays import add_workdays

pytestmark = pytest.mark.django_db

ROLES = ("own", "support", "other", "sup_in", "sup_support", "admin", "anon")
OK, NO, HIDDEN, ANON = "ok", "refused", "hidden", "anon"
# A bulk action answered (200, or the page's redirect) that did nothing: the task was refused in
# the answer, by title or, out of sight, by number (批量签收).
NAMED = "named"
S = TaskStatus

LEAD = (OK, NO, HIDDEN, OK, NO, OK, ANON)  # the lead unit's officer, or its supervisor
SEEN = (OK, OK, HIDDEN, OK, OK, OK, ANON)  # anyone who sees the task
SUPERVISE = (NO, NO, HIDDEN, OK, NO, OK, ANON)  # the lead unit's supervisor only
# 签收: the lead unit's officer only (a supervisor may not acknowledge for the unit).
ACK = (OK, NO, HIDDEN, NO, NO, NO, ANON)
# 批量签收: task by task for officers (the supporting unit's and another unit's officer get the
# task named as refused); supervisors and administrators refused outright.
ACK_BATCH = (OK, NAMED, NAMED, NO, NO, NO, ANON)
# Report documents: supervisors who see the report read it (the task's inspection is aimed at
# the county; fin sees it through the task it supports); officers are refused.
REVIEW = (NO, NO, NO, OK, OK, OK, ANON)
# Acting on its figures and items is for a supervisor over the inspection's unit (or the
# importer's): fin, who sees the report only through a supporting unit, reads but may not act.
REVIEW_ACT = (NO, NO, NO, OK, NO, OK, ANON)
# A city report (imported at the city, about no inspection) with a figure confirmed to the
# county's inspection: the API never showed it to a district supervisor; neither do the pages.
CITY_REVIEW = (NO, NO, NO, HIDDEN, HIDDEN, OK, ANON)
# 考评排名 and 情况通报: every supervisor (over their own subtree) and administrators.
SCORES = (NO, NO, NO, OK, OK, OK, ANON)

MODELS = [Task, Task.supporting_units.through, TaskEvent, ProgressReport, Evidence,
          DeadlineExtension, Problem, Inspection, SourceReport, ExtractedFigure, ExtractedItem,
          TaskComment, CommentMention, TaskWatcher, SupervisionNotice, SupervisionNoticeItem,
          TaskRecheck]
# 下发督办单: officers are refused; fin sees the task through its supporting unit but does not
# supervise it (the page does not offer it, the API refuses it).
ISSUE = (NO, NO, NO, OK, NO, OK, ANON)


@dataclass(frozen=True)
class Face:
    method: str
    url: str  # formatted with the world's ids
    body: object = None  # dict, or callable(world) -> dict
    multipart: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    page: Face
    api: Face
    expected: tuple
    status: TaskStatus = S.IN_PROGRESS

    def __str__(self):
        return self.name


def _note(prefix, **extra):
    return lambda w: {f"{prefix}-version": w["version"], f"{prefix}-note": "依据核查情况办理",
                      **extra}


def _api_note(w):
    return {"note": "依据核查情况办理", "version": w["version"]}


def _pdf():
    return SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 rectification report",
                              content_type="application/pdf")


def _edit(w):
    return {"edit-version": w["version"], "edit-title": "调整后的任务", "edit-task_type":
            "by_deadline", "edit-lead_unit": w["town"], "edit-deadline": "2029-12-31",
            "edit-supporting_units": [w["finance"]]}


def _transition(name, url, status, expected=SUPERVISE, api_extra=None, **page_extra):
    prefix = name.replace("-", "_")
    return Case(f"task {name}", Face("post", f"/tasks/{{task}}/{url}/",
                                     _note(prefix, **page_extra)),
                Face("post", f"/api/v1/tasks/{{task}}/{url}/",
                     lambda w: {**_api_note(w), **(api_extra or {})}), expected, status)


CASES = [
    Case("task page", Face("get", "/tasks/{task}/"), Face("get", "/api/v1/tasks/{task}/"), SEEN),
    _transition("acknowledge", "acknowledge", S.IN_PROGRESS, ACK),
    Case("task acknowledge batch (批量签收)",
         Face("post", "/tasks/acknowledge/",
              lambda w: {"tasks": [w["task"]], f"v{w['task']}": w["version"]}),
         Face("post", "/api/v1/tasks/acknowledge/",
              lambda w: {"tasks": [{"id": w["task"], "version": w["version"]}]}), ACK_BATCH),
    _transition("start", "start", S.NOT_STARTED, LEAD),
    Case("task progress",
         Face("post", "/tasks/{task}/progress/",
              lambda w: {"version": w["version"], "note": "完成第一阶段", "percent": 50}),
         Face("post", "/api/v1/tasks/{task}/progress/",
              lambda w: {"version": w["version"], "note": "完成第一阶段", "percent": 50}), SEEN),
    Case("task evidence",
         Face("post", "/tasks/{task}/evidence/",
              lambda w: {"evidence-version": w["version"], "evidence-files": _pdf()}, True),
         Face("post", "/api/v1/tasks/{task}/evidence/", lambda w: {"file": _pdf()}, True), SEEN),
    _transition("submit", "submit", S.IN_PROGRESS, LEAD),
    # 销号 of a task without evidence carries the confirmation, on the page and in the API.
    _transition("close", "close", S.SUBMITTED,
                api_extra={"confirm_no_evidence": True, "effectiveness": "effective"},
                **{"close-confirm_no_evidence": "on", "close-effectiveness": "effective"}),
    _transition("send_back", "send-back", S.SUBMITTED),
    _transition("mark_basically_completed", "mark-basically-completed", S.IN_PROGRESS),
    _transition("mark_long_term", "mark-long-term", S.IN_PROGRESS),
    _transition("reopen", "reopen", S.COMPLETED),
    Case("task edit (deadline to 2029, a supporting unit kept)",
         Face("post", "/tasks/{task}/edit/", _edit),
         Face("patch", "/api/v1/tasks/{task}/",
              lambda w: {"version": w["version"], "title": "调整后的任务",
                         "deadline": "2029-12-31", "supporting_units": [w["finance"]]}),
         SUPERVISE, S.COMPLETED),
    # 重点任务 and priority (docs/priority.md): the lead unit's supervisor only, never an officer.
    Case("task set priority (重点任务, 紧急)",
         Face("post", "/tasks/{task}/set-priority/",
              lambda w: {"priority-version": w["version"], "priority-is_key": "on",
                         "priority-priority": 4}),
         Face("post", "/api/v1/tasks/{task}/set-priority/",
              lambda w: {"version": w["version"], "is_key": True, "priority": 4}), SUPERVISE),
    Case("task extension request",
         Face("post", "/tasks/{task}/extension/",
              {"requested_deadline": "2027-06-30", "reason": "需跨部门协调"}),
         Face("post", "/api/v1/tasks/{task}/extensions/",
              {"requested_deadline": "2027-06-30", "reason": "需跨部门协调"}), LEAD),
    Case("extension approve", Face("post", "/extensions/{extension}/approve/", {"note": "同意"}),
         Face("post", "/api/v1/extensions/{extension}/approve/", {"note": "同意"}), SUPERVISE),
    Case("extension reject",
         Face("post", "/extensions/{extension}/reject/", {"note": "理由不充分"}),
         Face("post", "/api/v1/extensions/{extension}/reject/", {"note": "理由不充分"}),
         SUPERVISE),
    # The thread (issue 15): comment and watch for anyone who sees the task; a 领导批示 for
    # the lead unit's supervisor only.
    Case("task comment",
         Face("post", "/tasks/{task}/comments/", {"comment-body": "请@湖滨街道 按期落实"}),
         Face("post", "/api/v1/tasks/{task}/comments/", {"body": "请@湖滨街道 按期落实"}), SEEN),
    Case("task instruction",
         Face("post", "/tasks/{task}/comments/",
              {"comment-kind": "instruction", "comment-body": "务必按期完成"}),
         Face("post", "/api/v1/tasks/{task}/comments/",
              {"kind": "instruction", "body": "务必按期完成"}), SUPERVISE),
    Case("task watch", Face("post", "/tasks/{task}/watch/"),
         Face("put", "/api/v1/tasks/{task}/watch/"), SEEN),
    # Unit scores (考评): supervisors and administrators; officers refused.
    Case("score ranking", Face("get", "/scores/?kind=month&year=2026&month=5"),
         Face("get", "/api/v1/scores/?period=2026-05"), SCORES),
    Case("score circular", Face("get", "/scores/circular/?kind=month&year=2026&month=5"),
         Face("get", "/api/v1/scores/docx/?period=2026-05"), SCORES),
    # Supervision notices (督办单).
    Case("notice page", Face("get", "/notices/{notice}/"),
         Face("get", "/api/v1/notices/{notice}/"), SEEN),
    Case("notice docx", Face("get", "/notices/{notice}/docx/"),
         Face("get", "/api/v1/notices/{notice}/docx/"), SEEN),
    Case("notice reply",
         Face("post", "/notices/{notice}/reply/{task}/",
              lambda w: {f"t{w['task']}-reply": "已召开专题会议推进整改"}),
         Face("post", "/api/v1/notices/{notice}/reply/",
              lambda w: {"task": w["task"], "reply": "已召开专题会议推进整改"}), LEAD),
    Case("notice issue",
         Face("post", "/notices/new/",
              lambda w: {"tasks": [w["task"]], "colour": "red", "reason": "任务进度滞后",
                         "reply_by": add_workdays(timezone.localdate(), 3).isoformat()}),
         Face("post", "/api/v1/notices/",
              lambda w: {"tasks": [w["task"]], "colour": "red", "reason": "任务进度滞后",
                         "reply_by": add_workdays(timezone.localdate(), 3).isoformat()}),
         ISSUE),
    # 回头看 (re-checks): the list for everyone signed in (scoped); a re-check's report for the
    # lead unit's side, its confirmation or failure (reopening the task) for its supervisor.
    Case("recheck list", Face("get", "/rechecks/"), Face("get", "/api/v1/rechecks/"),
         (OK, OK, OK, OK, OK, OK, ANON)),
    Case("recheck report",
         Face("post", "/rechecks/{recheck}/report/",
              {"recurred": "no", "note": "整改成果巩固，未发现反弹"}),
         Face("post", "/api/v1/rechecks/{recheck}/report/",
              {"recurred": False, "note": "整改成果巩固，未发现反弹"}), LEAD, S.COMPLETED),
    Case("recheck confirm", Face("post", "/rechecks/{recheck}/confirm/", {"note": "同意"}),
         Face("post", "/api/v1/rechecks/{recheck}/confirm/", {"note": "同意"}), SUPERVISE,
         S.COMPLETED),
    Case("recheck fail", Face("post", "/rechecks/{recheck}/fail/", {"note": "问题反弹"}),
         Face("post", "/api/v1/rechecks/{recheck}/fail/", {"note": "问题反弹"}), SUPERVISE,
         S.COMPLETED),
    # Report documents.
    Case("report page", Face("get", "/reports/documents/{report}/"),
         Face("get", "/api/v1/reports/{report}/"), REVIEW),
    Case("report figure confirm",
         Face("post", "/reports/figures/{figure}/confirm/", lambda w: {"inspection": w["insp"]}),
         Face("post", "/api/v1/reports/figures/{figure}/confirm/",
              lambda w: {"inspection": w["insp"]}), REVIEW_ACT),
    Case("report figure reject", Face("post", "/reports/figures/{figure}/reject/"),
         Face("post", "/api/v1/reports/figures/{figure}/reject/"), REVIEW_ACT),
    Case("report item reject", Face("post", "/reports/items/{item}/reject/"),
         Face("post", "/api/v1/reports/items/{item}/reject/"), REVIEW_ACT),
    Case("city report page", Face("get", "/reports/documents/{city_report}/"),
         Face("get", "/api/v1/reports/{city_report}/"), CITY_REVIEW),
    Case("city report item reject", Face("post", "/reports/items/{city_item}/reject/"),
         Face("post", "/api/v1/reports/items/{city_item}/reject/"), CITY_REVIEW),
    Case("city report figure reject", Face("post", "/reports/figures/{city_figure}/reject/"),
         Face("post", "/api/v1/reports/figures/{city_figure}/reject/"), CITY_REVIEW),
]


def snapshot() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def _page_outcome(response) -> str:
    code = response.status_code
    if code == 302:
        return ANON if response["Location"].startswith("/login/") else OK
    if code == 200:
        return OK
    return HIDDEN if code == 404 else NO


def _api_outcome(response) -> str:
    code = response.status_code
    if code == 401:
        return ANON
    if code < 300:
        return OK
    return HIDDEN if code == 404 else NO


def _params():
    for case in CASES:
        for role, expected in zip(ROLES, case.expected, strict=True):
            yield pytest.param(case, role, expected, id=f"{case.name}-{role}-{expected}")


@pytest.fixture
def world_for(city, bureau, county, town, alice, bob, sam, chief, root_admin):
    finance = UnitFactory(name="市财政局", kind=UnitKind.CITY_DEPARTMENT, parent=city)
    users = {
        "own": bob, "other": alice, "sup_in": sam, "admin": root_admin, "anon": None,
        "support": UserFactory(username="fay", unit=finance, role=Role.OFFICER),
        "sup_support": UserFactory(username="fin", unit=finance, supervisor=True),
    }

    def build(status: TaskStatus, with_extension: bool = False) -> tuple[dict, dict]:
        # Newly assigned: it awaits the lead unit's 签收 (docs/acknowledgement.md).
        task = TaskFactory(lead_unit=town, supporting_units=[finance], status=status,
                           deadline=dt.date(2026, 12, 31), ack_requested_at=timezone.now())
        Inspection.objects.filter(pk=task.inspection_id).update(target_unit=county)
        extension = DeadlineExtensionFactory(task=task, requested_by=bob) \
            if with_extension else None
        report = SourceReportFactory(inspection_id=task.inspection_id, imported_by=chief)
        city_report = SourceReportFactory(imported_by=chief)
        ids = {
            "task": task.pk, "version": task.version, "insp": task.inspection_id,
            "town": town.pk, "finance": finance.pk,
            "extension": extension.pk if extension else 0,
            "report": report.pk,
            "figure": ExtractedFigureFactory(report=report).pk,
            "item": ExtractedItemFactory(report=report).pk,
            "city_report": city_report.pk,
            "city_figure": ExtractedFigureFactory(report=city_report).pk,
            "city_item": ExtractedItemFactory(report=city_report).pk,
            "notice": SupervisionNoticeItemFactory(task=task, notice__issued_by=sam).notice_id,
            "recheck": TaskRecheckFactory(task=task, state="due").pk,
        }
        ExtractedFigureFactory(report=city_report, inspection_id=task.inspection_id,
                               review_state=ReviewState.CONFIRMED)
        return ids, users

    return build


def _call(client, face: Face, ids: dict, *, api: bool):
    url = face.url.format(**ids)
    body = face.body(ids) if callable(face.body) else face.body
    if face.method == "get":
        return client.get(url)
    if api:
        return getattr(client, face.method)(
            url, body or {}, format="multipart" if face.multipart else "json"
        )
    return client.post(url, body or {})


@pytest.mark.parametrize(("case", "role", "expected"), list(_params()))
def test_page_answers_each_role_as_the_api_does(case, role, expected, world_for):
    for api in (False, True):
        ids, users = world_for(case.status, with_extension="{extension}" in case.page.url)
        if case.name in ("recheck confirm", "recheck fail"):
            TaskRecheck.objects.filter(pk=ids["recheck"]).update(
                state="reported", recurred=False, report_note="未反弹", reported_by=users["own"],
                reported_at=timezone.now())
        user = users[role]
        client = APIClient() if api else Client()
        if user is not None:
            client.force_login(user)
        before = snapshot()

        response = _call(client, case.api if api else case.page, ids, api=api)

        outcome = _api_outcome(response) if api else _page_outcome(response)
        face = "API" if api else "page"
        assert outcome == (OK if expected == NAMED else expected), \
            f"{face}: {response.status_code}"
        if expected == NAMED and api:
            assert [r["id"] for r in response.json()["refused"]] == [ids["task"]]
        if expected != OK:
            assert snapshot() == before, f"a refused {face} request changed the database"
        elif case.page.method != "get":
            assert snapshot() != before, f"an accepted {face} request changed nothing"


# --- The task page offers exactly what the services accept -------------------------------


def _offered(client, task) -> set[str]:
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    marker = 'id="task-actions" data-allowed="'
    start = html.index(marker) + len(marker)
    allowed = set(html[start:html.index('"', start)].split())
    forms = {part.split('"')[0] for part in html.split('data-action="')[1:]}
    assert forms == allowed, "the page rendered forms other than its allowed actions"
    return allowed


@pytest.mark.parametrize("status", list(S))
def test_task_page_and_api_offer_the_same_actions_and_the_service_accepts_each(
    status, world_for
):
    """For every status and role, the forms on the task page are exactly the API detail's
    `allowed_actions`, and every action not offered is refused by the API (403/404/409)."""
    ids, users = world_for(status)
    task = Task.objects.get(pk=ids["task"])
    for role in ROLES[:-1]:
        user = users[role]
        api = APIClient()
        api.force_login(user)
        page = Client()
        page.force_login(user)
        detail = api.get(f"/api/v1/tasks/{task.pk}/")
        if detail.status_code == 404:
            assert page.get(f"/tasks/{task.pk}/").status_code == 404
            continue
        assert set(detail.json()["allowed_actions"]) == _offered(page, task), role
        assert detail.json()["allowed_actions"] == allowed_actions(user, task)
        for name in set(ACTIONS) - set(detail.json()["allowed_actions"]):
            if name in ("evidence", "extension_request", "extension_decide", "edit"):
                continue  # not transitions; covered by the table above
            url = f"/api/v1/tasks/{task.pk}/{name.replace('_', '-')}/"
            refused = api.post(url, {"note": "试图越权", "version": task.version}, format="json")
            assert refused.status_code in (403, 409), (role, name, refused.status_code)
