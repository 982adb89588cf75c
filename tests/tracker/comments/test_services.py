"""Issue 15, comments and 批示: who may post what, how @mentions resolve (and are refused),
and who is told, exactly once."""

from collections import Counter

import pytest

from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import (
    CommentKind,
    CommentMention,
    EventNotice,
    EventType,
    Notification,
    NotificationPreference,
    Role,
    TaskComment,
    TaskEvent,
    TaskStatus,
    TaskWatcher,
)
from tracker.models.comments import BODY_MAX
from tracker.services import tasks as task_services
from tracker.services.comments import (
    comment_post,
    mention_tails,
    watcher_add,
    watcher_remove,
)

pytestmark = pytest.mark.django_db


def told(event: str | None = None) -> Counter:
    """{username: notices} (of one event, or of all)."""
    notices = EventNotice.objects.all()
    if event:
        notices = notices.filter(event=event)
    return Counter(notices.values_list("recipient_user__username", flat=True))


@pytest.fixture
def task(town, county):
    """Led by bob's township (in sam's scope), no supporting unit."""
    return TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)


@pytest.fixture
def bob2(town):
    return UserFactory(username="bob2", full_name="王小二", unit=town, role=Role.OFFICER)


# --- Parsing ------------------------------------------------------------------------------


def test_tails_start_after_at_and_stop_at_space_or_punctuation_but_not_in_email_addresses():
    body = "请@王小二尽快办理，@湖滨街道 配合。抄送 a@b.com （@sam）"
    assert mention_tails(body) == ["王小二尽快办理", "湖滨街道", "sam"]


# --- Who may post -------------------------------------------------------------------------


def test_anyone_who_sees_the_task_comments_and_it_changes_no_status(task, bob, sam):
    before = TaskEvent.objects.count()
    comment = comment_post(task=task, author=bob, body="第一阶段材料已整理完毕")
    assert comment.kind == CommentKind.COMMENT
    assert comment_post(task=task, author=sam, body="收到").author == sam
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    assert TaskEvent.objects.count() == before  # the comment rows are the record


def test_who_does_not_see_the_task_may_not_comment(task, alice, sue):
    for outsider in (alice, sue):
        with pytest.raises(ActionForbidden):
            comment_post(task=task, author=outsider, body="看看")
    assert not TaskComment.objects.exists()


def test_an_instruction_is_refused_to_an_officer_and_to_a_supervisor_of_a_supporting_unit(
    town, county, bureau, bob, sue
):
    task = TaskFactory(lead_unit=town, supporting_units=[bureau])
    for who in (bob, sue):  # sue sees the task through the bureau but does not supervise it
        with pytest.raises(ActionForbidden, match="督导人员"):
            comment_post(task=task, author=who, body="批示", kind=CommentKind.INSTRUCTION)
    assert not TaskComment.objects.exists()


def test_a_supervisor_over_the_lead_unit_enters_an_instruction(task, sam, chief, root_admin):
    for who in (sam, chief, root_admin):
        comment = comment_post(task=task, author=who, body="要抓紧落实",
                               kind=CommentKind.INSTRUCTION)
        assert comment.is_instruction


@pytest.mark.parametrize("body", ["", "   ", "长" * (BODY_MAX + 1)])
def test_empty_or_too_long_bodies_are_refused(task, bob, body):
    with pytest.raises(InvalidInput):
        comment_post(task=task, author=bob, body=body)
    assert not TaskComment.objects.exists()


def test_an_unknown_kind_is_refused(task, sam):
    with pytest.raises(InvalidInput, match="评论类型"):
        comment_post(task=task, author=sam, body="好", kind="praise")


# --- Mentions -----------------------------------------------------------------------------


def test_mentions_by_username_full_name_and_unit_are_typed_rows(task, bob, bob2, sam, town):
    comment = comment_post(task=task, author=sam, body="@bob 与@王小二 请会同@湖滨街道 落实")
    rows = list(CommentMention.objects.filter(comment=comment).order_by("pk"))
    assert [(m.user_id, m.unit_id) for m in rows] == [
        (bob.pk, None), (bob2.pk, None), (None, town.pk)
    ]


def test_the_longest_known_name_wins_and_the_rest_of_the_sentence_is_text(task, bob2, sam):
    comment = comment_post(task=task, author=sam, body="请@王小二尽快办理")
    assert [m.user_id for m in comment.mentions.all()] == [bob2.pk]


def test_an_unknown_mention_is_refused_naming_it(task, sam):
    with pytest.raises(InvalidInput, match="找不到“@张无忌”"):
        comment_post(task=task, author=sam, body="@张无忌 请落实")
    assert not TaskComment.objects.exists()
    assert not EventNotice.objects.exists()


def test_mentioning_someone_who_cannot_see_the_task_is_refused_and_tells_nobody(
    task, sam, bob, alice
):
    alice.full_name = "李教育"
    alice.save()
    with pytest.raises(InvalidInput, match="李教育无权查看此任务"):
        comment_post(task=task, author=sam, body="@bob @alice 请会商")
    assert not TaskComment.objects.exists()
    assert not EventNotice.objects.exists()  # bob is not told either: all or nothing


def test_a_unit_that_cannot_see_the_task_is_refused(task, sam, alice, bureau):
    with pytest.raises(InvalidInput, match="市教育局没有可查看此任务的联络员"):
        comment_post(task=task, author=sam, body="@市教育局 请配合")


def test_a_full_name_shared_by_two_visible_users_is_refused_as_ambiguous(task, bob, bob2, sam):
    bob.full_name = "王小二"
    bob.save()
    with pytest.raises(InvalidInput, match="对应多个用户或单位"):
        comment_post(task=task, author=sam, body="@王小二 请落实")


def test_a_shared_full_name_resolves_to_the_one_who_sees_the_task(task, bob2, alice, sam):
    alice.full_name = "王小二"
    alice.save()
    comment = comment_post(task=task, author=sam, body="@王小二 请落实")
    assert [m.user_id for m in comment.mentions.all()] == [bob2.pk]
    assert told() == Counter({"bob2": 1})


# --- Notifications ------------------------------------------------------------------------


def test_a_mentioned_user_is_told_once_even_if_mentioned_twice_and_watching(task, bob, sam):
    watcher_add(task=task, user=bob)
    comment = comment_post(task=task, author=sam, body="@bob 请落实，@bob 本周内反馈")
    assert told() == Counter({"bob": 1})
    notice = EventNotice.objects.get()
    assert (notice.event, notice.key, notice.note) == (
        EventType.MENTIONED, f"comment:{comment.pk}", comment.body
    )
    # Immediate mode: the notice is in the inbox at once.
    assert Notification.objects.filter(recipient_user=bob, event_notices=notice).exists()


def test_a_unit_mention_reaches_its_officers_who_see_the_task_and_a_person_once(
    task, town, bob, bob2, sam
):
    UserFactory(username="gone", unit=town, role=Role.OFFICER, is_active=False)
    comment_post(task=task, author=sam, body="@湖滨街道 @bob 请落实")
    assert told(EventType.MENTIONED) == Counter({"bob": 1, "bob2": 1})


def test_an_instruction_tells_the_lead_units_officers_and_the_watchers_each_once(
    task, town, bob, bob2, sam, chief, alice
):
    watcher_add(task=task, user=chief)
    watcher_add(task=task, user=bob2)
    comment_post(task=task, author=sam, body="@bob 牵头，务必按期完成",
                 kind=CommentKind.INSTRUCTION)
    assert told(EventType.MENTIONED) == Counter({"bob": 1})
    assert told(EventType.INSTRUCTED) == Counter({"bob2": 1})
    assert told(EventType.WATCHED) == Counter({"chief": 1})
    assert told() == Counter({"bob": 1, "bob2": 1, "chief": 1})


def test_the_author_is_never_told_of_their_own_comment(task, sam, bob):
    watcher_add(task=task, user=sam)
    comment_post(task=task, author=sam, body="@sam 自己提醒自己")
    assert not EventNotice.objects.exists()


def test_a_watcher_who_no_longer_sees_the_task_is_not_told(task, bob, sam, bureau):
    watcher_add(task=task, user=bob)
    bob.unit = bureau  # moved to another unit
    bob.save()
    comment_post(task=task, author=sam, body="请抓紧")
    assert not EventNotice.objects.exists()


def test_a_switched_off_preference_records_nothing(task, bob, sam):
    NotificationPreference.objects.create(user=bob, on_mentioned=False)
    comment = comment_post(task=task, author=sam, body="@bob 请落实")
    assert comment.mentions.count() == 1
    assert not EventNotice.objects.exists()


def test_watchers_hear_of_status_changes_once_and_not_of_progress_that_keeps_it(
    town, bob, bob2, sam, chief
):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    watcher_add(task=task, user=chief)
    watcher_add(task=task, user=sam)  # also told as the reviewing supervisor: once
    watcher_add(task=task, user=bob2)
    task_services.task_report_progress(task=task, actor=bob, note="推进中")
    assert not EventNotice.objects.filter(event=EventType.WATCHED).exists()
    task.refresh_from_db()
    task_services.task_submit(task=task, actor=bob, note="申请销号",
                              expected_version=task.version)
    assert told(EventType.SUBMITTED) == Counter({"sam": 1})
    assert told(EventType.WATCHED) == Counter({"chief": 1, "bob2": 1})
    notice = EventNotice.objects.get(event=EventType.WATCHED, recipient_user=chief)
    assert "整改中 → 已提交待审核" in notice.text


# --- Watchers -----------------------------------------------------------------------------


def test_watching_twice_is_once_and_unwatching_stops_it(task, bob, sam):
    assert watcher_add(task=task, user=bob) is True
    assert watcher_add(task=task, user=bob) is False
    assert TaskWatcher.objects.filter(task=task, user=bob).count() == 1
    assert watcher_remove(task=task, user=bob) is True
    assert watcher_remove(task=task, user=bob) is False
    comment_post(task=task, author=sam, body="请抓紧")
    assert not EventNotice.objects.exists()


def test_who_does_not_see_the_task_may_not_watch_it(task, alice):
    with pytest.raises(ActionForbidden):
        watcher_add(task=task, user=alice)
    assert not TaskWatcher.objects.exists()


def test_a_unit_in_another_branch_with_the_same_name_does_not_make_a_mention_ambiguous(
    task, city, bob, sam
):
    # Unit names are unique only under one parent; the one without officers on the task
    # makes "@湖滨街道" ambiguous, and the comment is refused rather than guessed.
    UnitFactory(name="湖滨街道", parent=UnitFactory(name="西山区", parent=city))
    with pytest.raises(InvalidInput, match="对应多个用户或单位"):
        comment_post(task=task, author=sam, body="@湖滨街道 请落实")
