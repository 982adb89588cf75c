"""The demo's thread (issue 15): a few comments, 领导批示 with @mentions, and watchers on demo
tasks, posted through the services so the inbox shows what they told. A task that already has
comments is left alone, so loading again adds nothing."""

import datetime as dt
from collections.abc import Callable

from tracker.models import CommentKind, Task, TaskComment, User
from tracker.services.comments import comment_post, watcher_add

COMMENT, INSTRUCTION = CommentKind.COMMENT, CommentKind.INSTRUCTION

# task title → [(days before today, hour, author, kind, body)], oldest first; then watchers.
THREADS = {
    "规范课后服务收费与经费保障": [
        (6, 9, "zgb", INSTRUCTION, "该任务临近完成时限，请@市教育局 抓紧出台经费保障办法，"
                         "@钱联络 配合做好经费测算，确保按期完成。"),
        (5, 15, "jiaoyu", COMMENT, "已起草经费保障办法征求意见稿，本周内送@caizheng 会签。"),
        (4, 10, "caizheng", COMMENT, "已收到征求意见稿，三个工作日内反馈会签意见。"),
    ],
    "推行村级财务每月公开": [
        (12, 10, "linjiang_db", COMMENT, "请@吴联络 汇总江滨街道近三个月村级财务公开情况。"),
        (11, 16, "jiangbin", COMMENT, "已汇总，江滨街道各村均按月公开，公开记录已上传。"),
        (9, 9, "linjiang_db", INSTRUCTION,
         "公开模板要全区统一，抽查结果按季度报区整改办，形成长效机制。"),
    ],
    "修订完善议事规则": [
        (3, 11, "jiwei", COMMENT, "请补充各单位议事规则的备案回执，审核时一并核查。"),
    ],
}
WATCHERS = {
    "规范课后服务收费与经费保障": ["jiwei", "caizheng"],
    "推行村级财务每月公开": ["zgb"],
}


def ensure_comments(*, users: dict[str, User], today: dt.date,
                    at: Callable[[dt.date, int], dt.datetime]) -> int:
    """Post the demo threads missing so far; returns how many comments were created."""
    created = 0
    for title, entries in THREADS.items():
        task = Task.objects.filter(title=title).first()
        if task is None or TaskComment.objects.filter(task=task).exists():
            continue
        for username in WATCHERS.get(title, []):
            watcher_add(task=task, user=users[username],
                        now=at(today - dt.timedelta(days=entries[0][0] + 1), 9))
        for days, hour, author, kind, body in entries:
            comment_post(task=task, author=users[author], kind=kind, body=body,
                         now=at(today - dt.timedelta(days=days), hour))
            created += 1
    return created
