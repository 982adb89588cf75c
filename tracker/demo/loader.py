"""Load the demo city through the services, so its history is as real as a user's would be."""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction

from tracker import access, deadlines
from tracker.deadlines import default_reply_by
from tracker.demo.comments import ensure_comments
from tracker.demo.content import DEMO_PASSWORD, INSPECTIONS, ROOT, UNIT_TREE, USERS
from tracker.demo.scoring import ensure_scoring_schemes
from tracker.models import (
    CLOSED_STATUSES,
    Effectiveness,
    Inspection,
    NoticeColour,
    RecheckState,
    SupervisionNotice,
    Task,
    TaskAction,
    TaskPriority,
    TaskRecheck,
    TaskStatus,
    TaskType,
    Unit,
    User,
)
from tracker.services import notices as notice_services
from tracker.services import priority as priority_services
from tracker.services import rechecks as recheck_services
from tracker.services import tasks as task_services
from tracker.services.inspections import inspection_create, problem_create
from tracker.services.units import unit_create
from tracker.services.users import user_create
from tracker.workdays import add_workdays, previous_or_same_workday

LOCAL = ZoneInfo("Asia/Shanghai")
S = TaskStatus


@dataclass
class DemoSummary:
    units_created: int = 0
    users_created: int = 0
    inspections_created: int = 0
    tasks_created: int = 0
    comments_created: int = 0
    notices_created: int = 0
    scoring_schemes_created: int = 0
    key_tasks_marked: int = 0
    rechecks_reported: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL)


def _ensure_units(summary: DemoSummary) -> dict[str, Unit]:
    units: dict[str, Unit] = {}

    def ensure(name, kind, parent, order):
        unit = Unit.objects.filter(name=name, parent=parent).first()
        if unit is None:
            unit = unit_create(name=name, kind=kind, parent=parent, sort_order=order)
            summary.units_created += 1
        units[name] = unit
        return unit

    root = ensure(*ROOT, None, 0)

    def walk(children, parent):
        for order, (name, kind, grandchildren) in enumerate(children, start=1):
            walk(grandchildren, ensure(name, kind, parent, order))

    walk(UNIT_TREE, root)
    return units


def _ensure_users(units: dict[str, Unit], summary: DemoSummary) -> dict[str, User]:
    users = {}
    for username, full_name, role, unit, covers, scope, description in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                unit=units[unit] if unit else None,
                full_name=full_name,
                email=f"{username}@jiangyu.example",
                covers_subunits=covers,
                supervision_root=units[scope] if scope else None,
            )
            summary.users_created += 1
        users[username] = user
        summary.logins.append((username, DEMO_PASSWORD, description))
    return users


def _drive(task: Task, target: TaskStatus, *, officer: User, supervisor: User,
           start: dt.date, today: dt.date) -> None:
    """Move a new task to `target` through the services, on plausible past dates. The lead
    unit's officer acknowledges (签收) it implicitly by its first progress note; of the tasks
    not started, about half are acknowledged explicitly and the rest still await 签收."""
    if target == S.NOT_STARTED:
        if access.may_acknowledge(officer, task) and len(task.title) % 2 == 0:
            task_services.task_acknowledge(
                task=task, actor=officer, note="已收到，正在研究制定整改方案。",
                now=_at(min(start + dt.timedelta(days=1), today), 9),
            )
        return
    deadline = task.deadline or today
    worked = min(start + dt.timedelta(days=10), today)
    done = max(worked, min(deadline - dt.timedelta(days=2), today - dt.timedelta(days=3)))
    reviewed = min(done + dt.timedelta(days=2), today)
    if target == S.LONG_TERM:
        task_services.task_mark_long_term(
            task=task, actor=supervisor, note="属于需长期坚持的制度性任务，转入常态化推进。",
            now=_at(worked),
        )
        task_services.task_report_progress(
            task=task, actor=officer, note="已建立常态化工作机制，按季度报送落实情况。",
            now=_at(worked, 15),
        )
        return
    task_services.task_report_progress(
        task=task, actor=officer, note="已召开专题会议研究部署，制定整改工作方案并明确责任人。",
        percent=30, now=_at(worked),
    )
    if target == S.IN_PROGRESS:
        return
    if target == S.BASICALLY_COMPLETED:
        task_services.task_mark_basically_completed(
            task=task, actor=supervisor, note="主体工作已完成，个别事项仍需持续推进。",
            now=_at(reviewed),
        )
        return
    task_services.task_submit(
        task=task, actor=officer, note="各项整改措施已落实到位，申请销号。", now=_at(done)
    )
    if target == S.COMPLETED:
        # 回头看 a month after closure, so that the demo has re-checks due (docs/rechecks.md).
        task_services.task_close(
            task=task, actor=supervisor, note="经核查，整改到位，同意销号。", now=_at(reviewed),
            effectiveness=Effectiveness.EFFECTIVE,
            root_cause="制度执行不严、日常监管缺位，导致问题长期存在。",
            recheck_on=reviewed + dt.timedelta(days=30),
        )


@transaction.atomic
def load_demo(*, today: dt.date) -> DemoSummary:
    """Create what is missing of the demo city; running it again changes nothing."""
    summary = DemoSummary()
    units = _ensure_units(summary)
    users = _ensure_users(units, summary)
    supervisor = users["zgb"]
    # Each unit's demo officer: a demo user among the unit's officers as the rule book has them.
    officers_by_unit = {u.unit_id: u for u in User.objects.filter(
        access.officers_of_units_q([unit.pk for unit in units.values()]),
        pk__in=[user.pk for user in users.values()],
    ).order_by("pk")}

    for spec in INSPECTIONS:
        if Inspection.objects.filter(title=spec["title"]).exists():
            continue
        feedback = today - dt.timedelta(days=spec["feedback_days_ago"])
        inspection = inspection_create(
            title=spec["title"], kind=spec["kind"], mode=spec["mode"], team=spec["team"],
            target=spec["target"], target_unit=units[spec["target_unit"]],
            feedback_date=feedback,
            rectification_deadline=today + dt.timedelta(days=spec["deadline_offset"]),
        )
        summary.inspections_created += 1
        start = feedback + dt.timedelta(days=7)
        for number, (aspect, text, tasks) in enumerate(spec["problems"], start=1):
            problem = problem_create(inspection=inspection, number=number, text=text, aspect=aspect)
            for title, measures, lead, supporting, offset, target, leader, person in tasks:
                task = task_services.task_create(
                    problem=problem, actor=None, title=title, measures=measures,
                    task_type=TaskType.LONG_TERM if offset is None else TaskType.BY_DEADLINE,
                    lead_unit=units[lead], supporting_units=[units[name] for name in supporting],
                    deadline=None if offset is None else today + dt.timedelta(days=offset),
                    responsible_leader=leader, responsible_person=person, now=_at(start),
                )
                summary.tasks_created += 1
                officer = officers_by_unit.get(task.lead_unit_id, supervisor)
                _drive(task, target, officer=officer, supervisor=supervisor, start=start,
                       today=today)
    summary.comments_created = ensure_comments(users=users, today=today, at=_at)
    _ensure_notices(supervisor, officers_by_unit, today, summary)
    summary.scoring_schemes_created = ensure_scoring_schemes(admin=users["admin"], today=today)
    _ensure_key_tasks(supervisor, today, summary)
    _ensure_rechecks(supervisor, officers_by_unit, today, summary)
    return summary


# 重点任务 of the demo (docs/priority.md), marked by the supervisor through the service so the
# history shows 调整优先级: two overdue (紧急, 高), two still on time (较高, 一般), one already
# closed; and one task given a priority without being a key task.
KEY_DEMO_NOTE = "列为重点任务，挂牌督办"


def _ensure_key_tasks(supervisor: User, today: dt.date, summary: DemoSummary) -> None:
    if Task.objects.filter(is_key=True).exists():
        return
    at = _at(previous_or_same_workday(today - dt.timedelta(days=3)), 15)
    tasks = Task.objects.order_by("deadline", "id")
    overdue = list(tasks.filter(deadlines.overdue_q(today))[:2])
    on_time = list(tasks.filter(deadlines.has_light_q(), deadlines.not_overdue_q(today))[:3])
    closed = list(tasks.filter(status=TaskStatus.COMPLETED)[:1])
    marked = [
        *zip(overdue, (TaskPriority.URGENT, TaskPriority.HIGH), strict=False),
        *zip(on_time[:2], (TaskPriority.ELEVATED, TaskPriority.NORMAL), strict=False),
        *((task, TaskPriority.NORMAL) for task in closed),
    ]
    for task, priority in marked:
        priority_services.task_set_priority(
            task=task, actor=supervisor, is_key=True, priority=priority, note=KEY_DEMO_NOTE,
            now=at,
        )
        summary.key_tasks_marked += 1
    for task in on_time[2:]:
        priority_services.task_set_priority(
            task=task, actor=supervisor, priority=TaskPriority.HIGH, note="提高优先级", now=at,
        )



def _ensure_rechecks(supervisor: User, officers_by_unit: dict[int, User], today: dt.date,
                     summary: DemoSummary) -> None:
    """回头看 in several states: the daily sweep marks those past their day 待单位报告; of
    those, one reported (待督导确认) and one reported and confirmed (已确认). Once only."""
    recheck_services.rechecks_sweep(now=_at(today, 9))
    if TaskRecheck.objects.exclude(state__in=[RecheckState.SCHEDULED, RecheckState.DUE]).exists():
        return
    due = list(TaskRecheck.objects.filter(state=RecheckState.DUE)
               .select_related("task").order_by("due_on", "pk")[:2])
    for number, recheck in enumerate(due):
        officer = officers_by_unit.get(recheck.task.lead_unit_id, supervisor)
        recheck_services.recheck_report(
            actor=officer, recheck=recheck, recurred=False,
            note="经回头看，整改措施持续落实，相关问题未出现反弹。", now=_at(today, 10),
        )
        summary.rechecks_reported += 1
        if number == 1:
            recheck_services.recheck_confirm(actor=supervisor, recheck=recheck,
                                             note="同意，整改成果得到巩固。", now=_at(today, 11))


def _ensure_notices(supervisor: User, officers_by_unit: dict[int, User], today: dt.date,
                    summary: DemoSummary) -> None:
    """督办单 in every state: one long unanswered (逾期未回复), one answered by both units
    (已回复), one answered by one of its two units (部分回复), one just issued (待回复)."""
    if SupervisionNotice.objects.exists():
        return
    officers = officers_by_unit

    def tasks_before(day: dt.date, count: int, *, overdue: bool | None = None) -> list[Task]:
        qs = Task.objects.filter(
            lead_unit_id__in=officers, events__action=TaskAction.CREATE,
            events__at__lt=_at(day, 9),
        ).exclude(status__in=CLOSED_STATUSES).exclude(notice_items__isnull=False)
        if overdue is not None:
            qs = qs.filter(deadlines.overdue_q(today)) if overdue else qs.filter(
                deadlines.has_light_q(), deadlines.not_overdue_q(today))
        picked, units = [], set()
        for task in qs.order_by("deadline", "id"):
            if task.lead_unit_id not in units:  # one task per unit: each unit answers its own
                picked.append(task)
                units.add(task.lead_unit_id)
            if len(picked) == count:
                break
        return picked

    def issue(day, tasks, colour, reason):
        day = previous_or_same_workday(day)
        notice = notice_services.notice_issue(
            actor=supervisor, task_ids=[t.pk for t in tasks], colour=colour, reason=reason,
            requirements="请对照整改方案逐项说明整改进展、存在困难和下步措施，按期书面回复。",
            reply_by=default_reply_by(day), now=_at(day, 9),
        )
        summary.notices_created += 1
        return notice

    def reply(notice, task, day, text):
        item = notice.items.get(task=task)
        notice_services.notice_reply(actor=officers[task.lead_unit_id], item=item, reply=text,
                                     now=_at(day, 16))

    plans = [
        (today - dt.timedelta(days=30), 1, True, NoticeColour.RED, 0,
         "该任务已超过完成时限，整改工作明显滞后。"),
        (today - dt.timedelta(days=20), 2, True, NoticeColour.RED, 2,
         "以下任务已超过完成时限仍未完成整改，现予以红色督办。"),
        (today - dt.timedelta(days=2), 2, None, NoticeColour.YELLOW, 1,
         "以下任务整改进度滞后于整改方案安排，现予以黄色督办。"),
        (today, 1, False, NoticeColour.BLUE, 0,
         "该任务临近完成时限，请抓紧推进，确保按期完成。"),
    ]
    for day, count, overdue, colour, answered, reason in plans:
        tasks = tasks_before(day, count, overdue=overdue)
        if len(tasks) < count:
            continue
        notice = issue(day, tasks, colour, reason)
        for task in tasks[:answered]:
            reply_day = min(add_workdays(previous_or_same_workday(day), 2), today)
            reply(notice, task, reply_day,
                  "已召开专题推进会，明确责任人和时间表，正在逐项落实整改措施。")
