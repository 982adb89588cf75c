"""Acceptance: every endpoint and action, for each role, answers with the
exact status code, and a refused request changes nothing.

Roles, for a task led by bob's township (湖滨街道, inside 东湖区):
    own    bob   — officer of the task's unit
    other  alice — officer of another unit (市教育局)
    sup_in sam   — supervisor over 东湖区, so the task is in scope
    sup_out sue  — supervisor over 市教育局 only
    admin  root  — administrator
    anon         — not signed in
A task out of someone's sight is 404 (existence does not leak); a task in sight that the role
may not act on is 403; anonymous is 401 everywhere.
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from reports.models import ExtractedFigure, ExtractedItem, SourceReport
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
)
from tests.tracker.factories import (
    DeadlineExtensionFactory,
    EvidenceFactory,
    ProgressReportFactory,
    SupervisionNoticeItemFactory,
    TaskEventFactory,
    TaskFactory,
    TaskRecheckFactory,
)
from tracker.models import (
    ApiToken,
    CommentMention,
    DeadlineExtension,
    Evidence,
    Inspection,
    Problem,
    ProgressReport,
    SupervisionNotice,
    SupervisionNoticeItem,
    Task,
    TaskComment,
    TaskEvent,
    TaskRecheck,
    TaskStatus,
    TaskWatcher,
    Unit,
    User,
)
from tracker.workdays import add_workdays

pytestmark = pytest.mark.django_db

ROLES = ("own", "other", "sup_in", "sup_out", "admin", "anon")
S = TaskStatus


@dataclass
class World:
    task: Task
    users: dict
    units: dict
    evidence: Evidence | None = None
    extension: DeadlineExtension | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str  # formatted with the World's ids
    expected: tuple  # one status code per role, in ROLES order
    status: TaskStatus = S.IN_PROGRESS
    body: object = None  # dict, or a callable(world) -> dict
    multipart: bool = False

    def __str__(self):
        return self.name


def _note(**extra):
    return {"note": "依据核查情况办理", "version": 1, **extra}


def _awaiting_ack(world):
    """The task awaits 签收 (as a newly assigned one does); the body is a plain note."""
    Task.objects.filter(pk=world.task.pk).update(ack_requested_at=timezone.now())
    return _note()


def _ack_batch(world):
    """The task awaits 签收; the body lists it with the version read."""
    _awaiting_ack(world)
    return {"tasks": [{"id": world.task.pk, "version": 1}]}


def _upload(world):
    return {"file": SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 rectification report")}


def _report_upload(world):
    text = "东湖区整改工作情况汇报\n区委巡察组反馈的12项整改任务已完成5项。"
    return {"file": SimpleUploadedFile("整改汇报.txt", text.encode())}


OK_ALL = (200, 200, 200, 200, 200, 401)
SEEN = (200, 404, 200, 404, 200, 401)  # a detail of the task's world
SUPERVISE = (403, 404, 200, 404, 200, 401)  # a supervisor's act on the task
ADMIN = (403, 403, 403, 403, 200, 401)
# Reports: supervisors and administrators only; a report is seen through its inspection.
REVIEW = (403, 403, 200, 404, 200, 401)
# Unit scores: supervisors (each their own subtree) and administrators; officers refused.
SCORES = (403, 403, 200, 200, 200, 401)

CASES = [
    # Units: everyone signed in reads the tree; only the administrator writes.
    Case("units list", "get", "/api/v1/units/", OK_ALL),
    Case("unit detail", "get", "/api/v1/units/{town}/", OK_ALL),
    Case("unit tree", "get", "/api/v1/units/tree/", OK_ALL),
    Case("unit create", "post", "/api/v1/units/", (403, 403, 403, 403, 201, 401),
         body=lambda w: {"name": "新设街道", "kind": "township", "parent": w.units["county"]}),
    Case("unit update", "patch", "/api/v1/units/{town}/", ADMIN, body={"short_name": "湖滨"}),
    # Users: everyone sees themself; only the administrator manages users.
    Case("users me", "get", "/api/v1/users/me/", OK_ALL),
    Case("users list", "get", "/api/v1/users/", ADMIN),
    Case("user detail", "get", "/api/v1/users/{bob}/", ADMIN),
    Case("user create", "post", "/api/v1/users/", (403, 403, 403, 403, 201, 401),
         body=lambda w: {"username": "newbie", "password": "Rectify-2026-long", "role": "officer",
                         "unit": w.units["town"]}),
    # Inspections and problems: seen through tasks or a supervisor's scope.
    Case("inspections list", "get", "/api/v1/inspections/", OK_ALL),
    Case("inspection detail", "get", "/api/v1/inspections/{inspection}/", SEEN),
    Case("inspection create", "post", "/api/v1/inspections/", (403, 403, 201, 403, 201, 401),
         body=lambda w: {"title": "区委第二轮巡察", "kind": "county_patrol", "target": "东湖区",
                         "target_unit": w.units["county"], "feedback_date": "2026-04-01"}),
    Case("inspection update", "patch", "/api/v1/inspections/{inspection}/",
         (403, 403, 200, 404, 200, 401), body={"team": "区委第一巡察组"}),
    Case("problems list", "get", "/api/v1/problems/", OK_ALL),
    Case("problem detail", "get", "/api/v1/problems/{problem}/", SEEN),
    Case("problem create", "post", "/api/v1/problems/", (403, 403, 201, 400, 201, 401),
         body=lambda w: {"inspection": w.task.inspection_id, "number": 99, "text": "新问题"}),
    Case("problem update", "patch", "/api/v1/problems/{problem}/",
         (403, 403, 200, 404, 200, 401), body={"aspect": "作风建设方面"}),
    # Tasks.
    Case("tasks list", "get", "/api/v1/tasks/", OK_ALL),
    Case("task detail", "get", "/api/v1/tasks/{task}/", SEEN),
    Case("task create", "post", "/api/v1/tasks/", (403, 403, 201, 400, 201, 401),
         body=lambda w: {"problem": w.task.problem_id, "title": "新整改任务",
                         "lead_unit": w.units["town"], "deadline": "2026-10-31"}),
    Case("task update", "patch", "/api/v1/tasks/{task}/", SUPERVISE,
         body={"measures": "调整后的整改措施", "version": 1}),
    # 签收: the lead unit's officer only; supervisors and administrators may not acknowledge
    # for the unit (403), those who do not see the task get 404.
    Case("task acknowledge", "post", "/api/v1/tasks/{task}/acknowledge/",
         (200, 404, 403, 404, 403, 401), body=_awaiting_ack),
    # 批量签收: task by task; refused outright for supervisors and administrators (403). An
    # officer of another unit gets 200 with the task refused by number (nothing changes: see
    # tests/tracker/acknowledgement/test_batch.py).
    Case("task acknowledge batch", "post", "/api/v1/tasks/acknowledge/",
         (200, 200, 403, 403, 403, 401), body=_ack_batch),
    Case("task start", "post", "/api/v1/tasks/{task}/start/", SEEN, S.NOT_STARTED, _note()),
    Case("task progress", "post", "/api/v1/tasks/{task}/progress/", SEEN, body=_note(percent=50)),
    Case("task submit", "post", "/api/v1/tasks/{task}/submit/", SEEN, body=_note()),
    Case("task close", "post", "/api/v1/tasks/{task}/close/", SUPERVISE, S.SUBMITTED,
         _note(effectiveness="effective")),
    Case("task send back", "post", "/api/v1/tasks/{task}/send-back/", SUPERVISE, S.SUBMITTED,
         _note()),
    Case("task mark basically completed", "post",
         "/api/v1/tasks/{task}/mark-basically-completed/", SUPERVISE, body=_note()),
    Case("task mark long term", "post", "/api/v1/tasks/{task}/mark-long-term/", SUPERVISE,
         body=_note()),
    Case("task reopen", "post", "/api/v1/tasks/{task}/reopen/", SUPERVISE, S.COMPLETED, _note()),
    # 重点任务 and priority (docs/priority.md): a supervisor over the lead unit, never an officer.
    Case("task set priority", "post", "/api/v1/tasks/{task}/set-priority/", SUPERVISE,
         body={"is_key": True, "priority": 4, "version": 1}),
    Case("task list of key tasks", "get", "/api/v1/tasks/?is_key=true&priority=4", OK_ALL),
    Case("task history", "get", "/api/v1/tasks/{task}/history/", SEEN),
    Case("task progress reports", "get", "/api/v1/tasks/{task}/progress-reports/", SEEN),
    Case("task deadlines", "get", "/api/v1/tasks/{task}/deadlines/", SEEN),
    Case("task evidence upload", "post", "/api/v1/tasks/{task}/evidence/",
         (201, 404, 201, 404, 201, 401), body=_upload, multipart=True),
    Case("task extension request", "post", "/api/v1/tasks/{task}/extensions/",
         (201, 404, 201, 404, 201, 401), body={"requested_deadline": "2027-06-30",
                                              "reason": "需跨部门协调"}),
    # The thread (issue 15): anyone who sees the task comments and watches it; a 领导批示
    # only by a supervisor over the lead unit.
    Case("task comments", "get", "/api/v1/tasks/{task}/comments/", SEEN),
    Case("task comment post", "post", "/api/v1/tasks/{task}/comments/",
         (201, 404, 201, 404, 201, 401), body={"body": "请@湖滨街道 按期落实"}),
    Case("task instruction post", "post", "/api/v1/tasks/{task}/comments/",
         (403, 404, 201, 404, 201, 401), body={"body": "务必按期完成", "kind": "instruction"}),
    Case("task watch state", "get", "/api/v1/tasks/{task}/watch/", SEEN),
    Case("task watch", "put", "/api/v1/tasks/{task}/watch/", SEEN),
    Case("task unwatch", "delete", "/api/v1/tasks/{task}/watch/", SEEN),
    # Evidence: listed and downloaded only with the task in sight.
    Case("evidence list", "get", "/api/v1/evidence/", OK_ALL),
    Case("evidence detail", "get", "/api/v1/evidence/{evidence}/", SEEN),
    Case("evidence download", "get", "/api/v1/evidence/{evidence}/download/", SEEN),
    # Extensions: decided by a supervisor in scope.
    Case("extensions list", "get", "/api/v1/extensions/", OK_ALL),
    Case("extension detail", "get", "/api/v1/extensions/{extension}/", SEEN),
    Case("extension approve", "post", "/api/v1/extensions/{extension}/approve/", SUPERVISE,
         body={"note": "同意"}),
    Case("extension reject", "post", "/api/v1/extensions/{extension}/reject/", SUPERVISE,
         body={"note": "理由不充分"}),
    # Report documents: officers are refused, out-of-sight reports are 404.
    Case("reports list", "get", "/api/v1/reports/", (403, 403, 200, 200, 200, 401)),
    Case("report detail", "get", "/api/v1/reports/{report}/", REVIEW),
    Case("report upload", "post", "/api/v1/reports/", (403, 403, 202, 202, 202, 401),
         body=_report_upload, multipart=True),
    Case("report update", "patch", "/api/v1/reports/{report}/", REVIEW,
         body={"report_date": "2026-05-31"}),
    Case("report figure confirm", "post", "/api/v1/reports/figures/{figure}/confirm/", REVIEW,
         body=lambda w: {"inspection": w.task.inspection_id}),
    Case("report figure reject", "post", "/api/v1/reports/figures/{figure}/reject/", REVIEW),
    Case("report item confirm as problem", "post",
         "/api/v1/reports/items/{problem_item}/confirm-as-problem/", REVIEW,
         body=lambda w: {"inspection": w.task.inspection_id, "aspect": "监督执纪方面"}),
    Case("report item confirm as task", "post",
         "/api/v1/reports/items/{measure_item}/confirm-as-task/", REVIEW,
         body=lambda w: {"problem": w.task.problem_id, "lead_unit": w.units["town"],
                         "deadline": "2026-10-31"}),
    Case("report item reject", "post", "/api/v1/reports/items/{problem_item}/reject/", REVIEW),
    Case("reconciliation", "get", "/api/v1/rollups/reconciliation/?inspection={inspection}",
         REVIEW),
    # Supervision notices (督办单): seen through the task; issued by a supervisor over its lead
    # unit (a task out of sight is a 400: the ids are input, not the resource); answered by
    # the lead unit's side.
    Case("notices list", "get", "/api/v1/notices/", OK_ALL),
    Case("notice detail", "get", "/api/v1/notices/{notice}/", SEEN),
    Case("notice docx", "get", "/api/v1/notices/{notice}/docx/", SEEN),
    Case("notice suggestion", "get", "/api/v1/notices/suggestion/?tasks={task}",
         (403, 403, 200, 200, 200, 401)),
    Case("notice issue", "post", "/api/v1/notices/", (403, 403, 201, 400, 201, 401),
         body=lambda w: {"tasks": [w.task.pk], "colour": "red", "reason": "任务进度滞后",
                         "reply_by": add_workdays(timezone.localdate(), 3).isoformat()}),
    Case("notice reply", "post", "/api/v1/notices/{notice}/reply/", SEEN,
         body=lambda w: {"task": w.task.pk, "reply": "已召开专题会议推进整改"}),
    # Unit scores (考评): supervisors (their subtree) and administrators; officers refused.
    Case("scores list", "get", "/api/v1/scores/?period=2026-05", SCORES),
    Case("scores docx", "get", "/api/v1/scores/docx/?period=2026-05", SCORES),
    # 回头看 (re-checks): seen through the task; reported by the lead unit's side, confirmed or
    # failed (the task reopened) by a supervisor over the lead unit.
    Case("rechecks list", "get", "/api/v1/rechecks/", OK_ALL),
    Case("recheck detail", "get", "/api/v1/rechecks/{recheck}/", SEEN),
    Case("recheck report", "post", "/api/v1/rechecks/{recheck}/report/", SEEN, S.COMPLETED,
         body={"recurred": False, "note": "整改成果巩固，未发现反弹"}),
    Case("recheck confirm", "post", "/api/v1/rechecks/{recheck}/confirm/", SUPERVISE,
         S.COMPLETED, body={"note": "同意"}),
    Case("recheck fail", "post", "/api/v1/rechecks/{recheck}/fail/", SUPERVISE, S.COMPLETED,
         body={"note": "问题反弹，重新整改"}),
    # Session and token.
    Case("logout", "post", "/api/v1/auth/logout/", (204, 204, 204, 204, 204, 401)),
    Case("token revoke", "delete", "/api/v1/auth/token/", (204, 204, 204, 204, 204, 401)),
    # Schema and docs: signed-in users only.
    Case("schema", "get", "/api/schema/", OK_ALL),
    Case("swagger ui", "get", "/api/docs/", OK_ALL),
    Case("redoc", "get", "/api/redoc/", OK_ALL),
]

MODELS = [Unit, User, Inspection, Problem, Task, Task.supporting_units.through, TaskEvent,
          ProgressReport, Evidence, DeadlineExtension, ApiToken, SourceReport, ExtractedFigure,
          ExtractedItem, TaskComment, CommentMention, TaskWatcher, SupervisionNotice,
          SupervisionNoticeItem, TaskRecheck]


def snapshot() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def _params():
    for case in CASES:
        for role, expected in zip(ROLES, case.expected, strict=True):
            yield pytest.param(case, role, expected, id=f"{case.name}-{role}-{expected}")


@pytest.mark.parametrize(("case", "role", "expected"), list(_params()))
def test_endpoint_answers_each_role_with_the_exact_status_and_refusals_change_nothing(
    case, role, expected, client_for, world_for
):
    world = world_for(case.status, with_extension="{extension}" in case.url)
    url = case.url.format(
        task=world.task.pk, inspection=world.task.inspection_id, problem=world.task.problem_id,
        evidence=world.evidence.pk, extension=world.extension.pk if world.extension else 0,
        bob=world.users["own"].pk, **world.units, **world.extra,
    )
    body = case.body(world) if callable(case.body) else case.body
    if case.name in ("recheck confirm", "recheck fail"):
        TaskRecheck.objects.filter(pk=world.extra["recheck"]).update(
            state="reported", recurred=False, report_note="未反弹",
            reported_by=world.users["own"], reported_at=timezone.now())
    client = client_for(world.users[role])
    before = snapshot()

    kwargs = {"format": "multipart"} if case.multipart else {"format": "json"}
    response = getattr(client, case.method)(url, body, **kwargs)

    assert response.status_code == expected, getattr(response, "data", response)
    if expected >= 400:
        assert snapshot() == before, "a refused request changed the database"
        if response["Content-Type"].startswith("application/json"):
            payload = response.json()
            assert set(payload) == {"code", "detail", "fields"}
            assert any("\u4e00" <= ch <= "\u9fff" for ch in payload["detail"])


@pytest.fixture
def world_for(city, bureau, county, town, alice, bob, sam, chief, root_admin, sue):
    def build(status: TaskStatus, with_extension: bool) -> World:
        task = TaskFactory(lead_unit=town, status=status, deadline=dt.date(2026, 12, 31))
        Inspection.objects.filter(pk=task.inspection_id).update(target_unit=county)
        TaskEventFactory(task=task, actor=sam)
        ProgressReportFactory(task=task, author=bob)
        evidence = EvidenceFactory(task=task, uploaded_by=bob)
        extension = None
        if with_extension:
            extension = DeadlineExtensionFactory(task=task, requested_by=bob)
        # A report about the task's inspection (aimed at the county): sam sees it, sue not.
        report = SourceReportFactory(inspection_id=task.inspection_id)
        figure = ExtractedFigureFactory(report=report)
        problem_item = ExtractedItemFactory(report=report, kind="problem", position=1)
        measure_item = ExtractedItemFactory(report=report, kind="measure", position=1)
        notice_item = SupervisionNoticeItemFactory(task=task, notice__issued_by=sam)
        # A re-check due (to report); reported already for the supervisor's cases.
        recheck = TaskRecheckFactory(task=task, state="due")
        return World(
            task=task,
            users={"own": bob, "other": alice, "sup_in": sam, "sup_out": sue,
                   "admin": root_admin, "anon": None},
            units={"city": city.pk, "bureau": bureau.pk, "county": county.pk, "town": town.pk},
            evidence=evidence,
            extension=extension,
            extra={"report": report.pk, "figure": figure.pk, "problem_item": problem_item.pk,
                   "measure_item": measure_item.pk, "notice": notice_item.notice_id,
                   "recheck": recheck.pk},
        )

    return build
