"""The thread on a task (issue 15): comments, 领导批示, @mentions and watchers.

- `comment_post`: anyone who sees the task comments (access.may_comment); a 领导批示 only by
  those who supervise it (access.may_instruct). A comment is immutable: no edit, no delete; a
  correction is a new comment. The comment rows (with their mentions) are the record, so no
  TaskEvent is written: a comment changes nothing about the task.
- Mentions: "@用户名", "@姓名" or "@单位名称" in the body. Each must name exactly one active
  user, or one unit, that can see the task; anything else refuses the whole comment with a
  message naming the mention, and nobody is told anything.
- `watcher_add` / `watcher_remove`: follow a task (anyone who sees it). Not task history.

Notifications (tracker.reminders.events.comment_notify) are recorded in the same transaction
and sent after commit, once per person and comment.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import (
    CommentKind,
    CommentMention,
    Task,
    TaskComment,
    TaskWatcher,
    Unit,
    User,
)
from tracker.models.comments import BODY_MAX
from tracker.reminders import events

MAX_MENTIONS = 20
_NAME_MAX = 100  # Unit.name's length; usernames and full names are shorter
# "@" not inside an e-mail address; the name runs to the next space or punctuation mark.
_MENTION = re.compile(
    r"(?<![A-Za-z0-9._%+\-])@([^\s@,.;:!?，。；：！？、()（）\[\]【】<>《》\"'“”‘’]{1,100})"
)


@dataclass
class Mentions:
    users: list[User] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    # Who is told: the users named, and the officers of the units named who see the task.
    told_ids: list[int] = field(default_factory=list)


def mention_tails(body: str) -> list[str]:
    """The text after each "@" (up to the next space or punctuation), in order."""
    return [match.group(1) for match in _MENTION.finditer(body)]


def _prefixes(tail: str) -> list[str]:
    return [tail[:k] for k in range(len(tail), 0, -1)]


def _refuse(message: str):
    raise InvalidInput(message, fields={"body": message})


def mentions_resolve(*, task: Task, body: str) -> Mentions:
    """Resolve the body's @mentions against users and units, keeping only those that see
    `task` (tracker.access). Refuses (InvalidInput, nothing written) an unknown, ambiguous or
    out-of-scope mention, naming it. The longest known name after "@" wins ("@市教育局局长"
    names 市教育局局长 if it exists, else 市教育局)."""
    tails = list(dict.fromkeys(mention_tails(body)))
    if not tails:
        return Mentions()
    if len(tails) > MAX_MENTIONS:
        _refuse(f"一条评论最多提及{MAX_MENTIONS}个用户或单位")
    names = {prefix for tail in tails for prefix in _prefixes(tail)}
    users = list(
        User.objects.filter(Q(username__in=names) | Q(full_name__in=names), is_active=True)
        .select_related("unit", "supervision_root")
    )
    units = list(Unit.objects.filter(name__in=names))
    by_username = {user.username: user for user in users}
    found = Mentions()
    seen_users: set[int] = set()
    seen_units: set[int] = set()
    told: dict[int, None] = {}
    for tail in tails:
        name = next(
            (p for p in _prefixes(tail)
             if p in by_username or any(u.full_name == p for u in users)
             or any(unit.name == p for unit in units)),
            None,
        )
        if name is None:
            _refuse(f"找不到“@{tail}”对应的用户或单位，请核对后再提及")
        if name in by_username:  # a username is unique: it wins over a same full name
            user_candidates, unit_candidates = [by_username[name]], []
        else:
            user_candidates = [u for u in users if u.full_name == name]
            unit_candidates = [unit for unit in units if unit.name == name]
        if len(user_candidates) + len(unit_candidates) > 1:
            visible_users = [u for u in user_candidates if access.can_view_task(u, task)]
            if len(visible_users) == 1 and not unit_candidates:
                user_candidates = visible_users
            else:
                _refuse(f"“@{name}”对应多个用户或单位，请改用“@用户名”提及")
        if user_candidates:
            user = user_candidates[0]
            if not access.can_view_task(user, task):
                _refuse(f"{user.display_name}无权查看此任务，不能在评论中提及")
            if user.pk not in seen_users:
                seen_users.add(user.pk)
                found.users.append(user)
                told[user.pk] = None
            continue
        unit = unit_candidates[0]
        officers = [
            officer for officer in User.objects.filter(access.officers_of_units_q([unit.pk]))
            .select_related("unit")
            if access.can_view_task(officer, task)
        ]
        if not officers:
            _refuse(f"{unit.name}没有可查看此任务的联络员，不能在评论中提及")
        if unit.pk not in seen_units:
            seen_units.add(unit.pk)
            found.units.append(unit)
            for officer in officers:
                told[officer.pk] = None
    found.told_ids = list(told)
    return found


@transaction.atomic
def comment_post(
    *, task: Task, author: User, body: str, kind: str = CommentKind.COMMENT,
    now: dt.datetime | None = None,
) -> TaskComment:
    """Add a comment (评论) or a 领导批示 to the task's thread and tell those concerned: the
    people mentioned, for a 批示 the lead unit's officers, and the watchers, each once."""
    now = now or timezone.now()
    if not access.may_comment(author, task):
        raise ActionForbidden("您无权查看该任务，不能发表评论")
    if kind not in CommentKind.values:
        raise InvalidInput("评论类型只能是“评论”或“领导批示”", fields={"kind": "无效的选项"})
    if kind == CommentKind.INSTRUCTION and not access.may_instruct(author, task):
        raise ActionForbidden("只有负责督导该任务的督导人员可以作出领导批示")
    body = (body or "").strip()
    if not body:
        _refuse("评论内容不能为空")
    if len(body) > BODY_MAX:
        _refuse(f"评论内容不能超过{BODY_MAX}字（现有{len(body)}字）")
    mentions = mentions_resolve(task=task, body=body)
    comment = TaskComment.objects.create(
        task=task, author=author, kind=kind, body=body, created_at=now
    )
    CommentMention.objects.bulk_create(
        [CommentMention(comment=comment, user=user) for user in mentions.users]
        + [CommentMention(comment=comment, unit=unit) for unit in mentions.units]
    )
    events.comment_notify(comment=comment, mentioned_ids=mentions.told_ids, actor=author)
    return comment


@transaction.atomic
def watcher_add(*, task: Task, user: User, now: dt.datetime | None = None) -> bool:
    """Follow the task; True if the user was not watching it yet (watching twice is once)."""
    if not access.may_comment(user, task):
        raise ActionForbidden("您无权查看该任务，不能关注")
    _, created = TaskWatcher.objects.get_or_create(
        task=task, user=user, defaults={"created_at": now or timezone.now()}
    )
    return created


@transaction.atomic
def watcher_remove(*, task: Task, user: User) -> bool:
    """Stop following the task; True if the user was watching it."""
    deleted, _ = TaskWatcher.objects.filter(task=task, user=user).delete()
    return deleted > 0
