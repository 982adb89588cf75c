"""The late-reply rule (tracker.deadlines.notice_item_was_late) and its SQL twin agree, and
both follow notice_item_state on the day after the reply-by day."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.factories import SupervisionNoticeItemFactory, UserFactory
from tracker.deadlines import notice_item_was_late, notice_item_was_late_q
from tracker.models import SupervisionNoticeItem

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")
REPLY_BY = dt.date(2026, 5, 15)


@pytest.mark.parametrize(("replied", "today", "late"), [
    (None, dt.date(2026, 5, 15), False),  # the reply-by day has not passed
    (None, dt.date(2026, 5, 16), True),
    (dt.datetime(2026, 5, 15, 23, 59, tzinfo=LOCAL), dt.date(2026, 6, 1), False),
    (dt.datetime(2026, 5, 16, 0, 0, tzinfo=LOCAL), dt.date(2026, 6, 1), True),
    (dt.datetime(2026, 5, 10, 9, 0, tzinfo=LOCAL), dt.date(2026, 5, 16), False),
])
def test_late_reply_rule_in_python_and_sql(replied, today, late):
    replier = UserFactory()
    item = SupervisionNoticeItemFactory(
        notice__reply_by=REPLY_BY, replied_at=replied,
        replied_by=replier if replied else None, reply="已整改" if replied else "")
    replied_on = replied.astimezone(LOCAL).date() if replied else None
    assert notice_item_was_late(replied_on=replied_on, reply_by=REPLY_BY, today=today) is late
    found = SupervisionNoticeItem.objects.filter(notice_item_was_late_q(today), pk=item.pk)
    assert found.exists() is late
