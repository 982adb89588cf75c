"""Reads of a task's thread (issue 15), for the API and the task page alike.

The caller has already found the task through the reader's scope (tracker.access.
visible_tasks_q); these only read what hangs on it, in a constant number of queries.
"""

from django.db.models import Prefetch, QuerySet

from tracker import access
from tracker.models import CommentMention, Task, TaskComment, TaskWatcher, User


def visible_task(*, user: User, pk: int) -> Task | None:
    """The task if the user sees it (else None: the faces answer 404)."""
    return (
        Task.objects.filter(access.visible_tasks_q(user), pk=pk)
        .select_related("lead_unit").first()
    )


def task_comments(*, task: Task) -> QuerySet[TaskComment]:
    """The thread, oldest first, with authors and mentions: three queries however long."""
    return (
        TaskComment.objects.filter(task=task)
        .select_related("author", "author__unit")
        .prefetch_related(
            Prefetch("mentions", queryset=CommentMention.objects.select_related("user", "unit"))
        )
        .order_by("created_at", "id")
    )


def is_watching(*, user: User, task: Task) -> bool:
    return TaskWatcher.objects.filter(task=task, user=user).exists()
