"""The sweep at scale (issue #13): set-based recording, a second run that is an anti-join,
and digests that list the most pressing tasks and count the rest. Query counts are taken at
two sizes; no timings here (those are `manage.py bench`)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import TaskFactory, UserFactory
from tests.tracker.reminders.conftest import at
from tracker.models import Notification, NotificationKind, Reminder, Role, Task, TaskStatus
from tracker.reminders.services import reminders_sweep

pytestmark = pytest.mark.django_db
D = dt.date
DAY = D(2026, 10, 20)  # a Tuesday


def _ledger(n: int, bureau, town) -> None:
    """n tasks of each kind: overdue long enough for 督办 in the township, overdue in the
    bureau (whose group robot is set), due soon in the bureau, and submitted for review in the
    township; each named on its responsible person and leader."""
    bureau.wecom_webhook_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"
    bureau.save()
    for i in range(n):
        TaskFactory(lead_unit=town, deadline=D(2026, 10, 9), title=f"督办{i}")
        TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 16), title=f"逾期{i}")
        TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 22), title=f"将到期{i}")
        TaskFactory(lead_unit=town, deadline=D(2026, 10, 30), title=f"待审核{i}",
                    status=TaskStatus.SUBMITTED, completed_at=at(D(2026, 10, 9), 15))


def _people(bureau, town) -> None:
    UserFactory(unit=town, role=Role.OFFICER, full_name="王副局长")  # named as leader
    UserFactory(unit=bureau, role=Role.OFFICER)


def _sweep_queries(now) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = reminders_sweep(now=now, requeue=False)
    return result, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("sizes", [(2, 12)])
def test_a_sweep_issues_the_same_queries_for_few_and_many_tasks(
    sizes, bureau, town, alice, bob, sam, chief
):
    """Recording, review and digests are statements over sets: the count of queries does
    not follow the number of tasks, recipients stay the same, only the rows grow."""
    _people(bureau, town)
    reminders_sweep(now=at(D(2026, 1, 5)), requeue=False)  # the working-day calendar, cached
    counts, made = [], []
    for n in sizes:
        Reminder.objects.all().delete()
        Notification.objects.all().delete()
        Task.objects.all().delete()
        _ledger(n, bureau, town)
        result, queries = _sweep_queries(at(DAY))
        counts.append(len(queries))
        made.append(result.reminders)
        # Every stage and the review were recorded, as one INSERT each, not one per task.
        stages = set(Reminder.objects.values_list("stage", flat=True))
        assert {"escalation_1", "overdue", "before_3", "review_overdue"} <= stages
        inserts = [q for q in queries if q.lstrip().upper().startswith("WITH")
                   and "INSERT INTO" in q.upper() and "tracker_reminder" in q]
        assert len(inserts) == 2  # the deadline's stages and the review's
    assert made[1] > made[0] > 0
    assert counts[0] == counts[1], counts


def test_a_second_run_with_nothing_to_record_is_a_handful_of_reads(
    bureau, town, alice, bob, sam, chief
):
    _people(bureau, town)
    _ledger(10, bureau, town)
    first = reminders_sweep(now=at(DAY), requeue=False)
    assert first.reminders > 0
    assert first.notifications > 0
    again, queries = _sweep_queries(at(DAY, 15))
    assert (again.reminders, again.notifications, again.deliveries) == (0, 0, 0)
    writes = [q for q in queries if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
              or "INSERT INTO" in q.upper()]
    assert writes == []
    # supervisors; review days; one empty candidate page per phase; the units and officers
    # of the recipient table are not even read; two recipient look-ups per digest kind.
    assert len(queries) <= 8, queries


def test_a_digest_lists_the_most_pressing_and_counts_every_task(bureau, alice, settings):
    settings.TRACKER_DIGEST_MAX_ITEMS = 3
    for i, deadline in enumerate([D(2026, 10, 16), D(2026, 10, 14), D(2026, 10, 15),
                                  D(2026, 10, 14), D(2026, 10, 16)]):
        TaskFactory(lead_unit=bureau, deadline=deadline, title=f"逾期{i}", responsible_person="")
    for i in range(2):
        TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 22), title=f"将到期{i}",
                    responsible_person="")
    reminders_sweep(now=at(DAY), requeue=False)
    digest = Notification.objects.get(recipient_user=alice, kind=NotificationKind.DIGEST)
    # Red first, the oldest deadline on top; three listed, seven counted.
    assert [item["title"] for item in digest.items] == ["逾期1", "逾期3", "逾期2"]
    assert (digest.reminder_count, digest.overdue_count, digest.unlisted_count) == (7, 5, 4)
    assert digest.reminders.count() == 7  # every reminder is carried by the message
    assert "5项已逾期" in digest.title
    assert "2项即将到期" in digest.title
    assert "另有4项未列出" in digest.body
    assert "】逾期0" not in digest.body
    assert "】逾期4" not in digest.body


def test_the_inbox_says_how_many_tasks_the_digest_did_not_list(bureau, alice, settings, client):
    settings.TRACKER_DIGEST_MAX_ITEMS = 1
    for i in range(3):
        TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 16), title=f"逾期{i}")
    reminders_sweep(now=at(DAY), requeue=False)
    client.force_login(alice)
    page = client.get("/inbox/").content.decode()
    assert "另有2项未列出" in page
