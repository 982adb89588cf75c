"""Issue 15 in the demo: a few comments and 批示 with mentions and watchers, loaded through the
services (so the mentioned officers find them in their inbox), and loading twice adds none."""

import datetime as dt

import pytest

from tracker.demo.loader import load_demo
from tracker.models import (
    CommentKind,
    CommentMention,
    EventNotice,
    EventType,
    TaskComment,
    TaskWatcher,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 24)


def test_the_demo_has_comments_instructions_mentions_and_watchers_once():
    summary = load_demo(today=TODAY)
    assert summary.comments_created == TaskComment.objects.count() >= 5
    assert TaskComment.objects.filter(kind=CommentKind.INSTRUCTION).count() >= 2
    assert CommentMention.objects.filter(user__isnull=False).exists()
    assert CommentMention.objects.filter(unit__isnull=False).exists()
    assert TaskWatcher.objects.exists()
    assert all(c.created_at.date() < TODAY for c in TaskComment.objects.all())
    mentioned = EventNotice.objects.filter(event=EventType.MENTIONED)
    assert set(mentioned.values_list("recipient_user__username", flat=True)) >= {
        "jiaoyu", "caizheng", "jiangbin"}
    # The demo also runs the daily 回头看 sweep, which on a later day rightly finds more
    # re-checks due (tests/tracker/rechecks): the thread's notices are the ones held here.
    notices = EventNotice.objects.exclude(
        event__in=[EventType.RECHECK_DUE, EventType.RECHECK_REPORTED, EventType.RECHECK_OVERDUE])
    counts = (TaskComment.objects.count(), CommentMention.objects.count(),
              TaskWatcher.objects.count(), notices.count())

    again = load_demo(today=TODAY + dt.timedelta(days=3))
    assert again.comments_created == 0
    assert counts == (TaskComment.objects.count(), CommentMention.objects.count(),
                      TaskWatcher.objects.count(), notices.count())
