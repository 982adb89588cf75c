"""Issue 15, 督办单: the rules in their rule books — the colour a notice proposes, the reply-by
date, the states (one function, and its SQL twin agreeing with it), who sees which part."""

import datetime as dt
import itertools

import pytest

from tests.tracker.factories import (
    SupervisionNoticeFactory,
    SupervisionNoticeItemFactory,
    TaskFactory,
    UserFactory,
)
from tracker import access, deadlines
from tracker.deadlines import GREEN, NONE, RED, YELLOW
from tracker.models import Role, TaskStatus
from tracker.notice_selectors import notice_list, visible_items

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 10)


@pytest.mark.parametrize(("lights", "colour"), [
    ([RED, GREEN], "red"),
    ([YELLOW, GREEN], "blue"),
    ([GREEN], "yellow"),
    ([NONE], "yellow"),
    ([], "yellow"),
    ([YELLOW, RED], "red"),
])
def test_the_proposed_colour_follows_the_worst_light(lights, colour):
    assert deadlines.suggest_notice_colour(lights) == colour


def test_the_default_reply_by_passes_its_own_validation():
    for offset in range(14):
        today = TODAY + dt.timedelta(days=offset)
        deadlines.ensure_reply_by_valid(deadlines.default_reply_by(today), today=today)


@pytest.mark.parametrize(("parts", "replied", "reply_by", "state"), [
    (2, 0, TODAY, "pending"),            # due today: not yet late
    (2, 1, TODAY, "partial"),
    (2, 2, TODAY, "replied"),
    (2, 0, TODAY - dt.timedelta(days=1), "overdue"),
    (2, 1, TODAY - dt.timedelta(days=1), "overdue"),
    (2, 2, TODAY - dt.timedelta(days=1), "replied"),
    (1, 1, TODAY + dt.timedelta(days=3), "replied"),
])
def test_a_notices_state_is_derived_from_its_parts(parts, replied, reply_by, state):
    assert deadlines.notice_state(parts=parts, replied=replied, reply_by=reply_by,
                                  today=TODAY) == state


def test_the_register_states_agree_with_the_python_rule(root_admin):
    """Every combination of answered parts and reply-by day, counted in SQL, gives the state
    the Python rule gives."""
    expected = {}
    for parts, day in itertools.product((1, 2, 3), (-2, 0, 2)):
        for replied in range(parts + 1):
            notice = SupervisionNoticeFactory(reply_by=TODAY + dt.timedelta(days=day))
            for index in range(parts):
                answered = index < replied
                SupervisionNoticeItemFactory(
                    notice=notice, reply="已整改" if answered else "",
                    replied_by=notice.issued_by if answered else None,
                    replied_at=notice.issued_at if answered else None,
                )
            expected[notice.pk] = deadlines.notice_state(
                parts=parts, replied=replied, reply_by=notice.reply_by, today=TODAY)
    got = dict(notice_list(user=root_admin, today=TODAY).values_list("pk", "state"))
    assert got == expected
    items = visible_items(user=root_admin, today=TODAY)
    for item in items:
        assert item.state == deadlines.notice_item_state(
            replied=item.replied_at is not None, reply_by=item.notice.reply_by, today=TODAY)
    assert {item.state for item in items} == {"pending", "replied", "overdue"}


def test_a_unit_sees_only_its_own_part_of_a_notice_on_two_units(
    town, bureau, bob, alice, sam, chief, sue
):
    notice = SupervisionNoticeFactory(issued_by=chief)
    town_part = SupervisionNoticeItemFactory(notice=notice, task=TaskFactory(lead_unit=town))
    bureau_part = SupervisionNoticeItemFactory(notice=notice, task=TaskFactory(lead_unit=bureau))
    seen = {
        user.username: [item.pk for item in notice_list(user=user, today=TODAY).get().seen_items]
        for user in (bob, alice, sam, sue, chief)
    }
    assert seen == {"bob": [town_part.pk], "alice": [bureau_part.pk], "sam": [town_part.pk],
                    "sue": [bureau_part.pk], "chief": [town_part.pk, bureau_part.pk]}
    # The counts (and so the state) are those of the reader's parts.
    bob_view = notice_list(user=bob, today=TODAY).get()
    assert (bob_view.parts, bob_view.replied) == (1, 0)


def test_nobody_sees_a_notice_without_a_part_in_their_sight(town, bureau, alice):
    notice = SupervisionNoticeFactory()
    SupervisionNoticeItemFactory(notice=notice, task=TaskFactory(lead_unit=town))
    assert not notice_list(user=alice, today=TODAY).exists()
    retired = UserFactory(role=Role.OFFICER, unit=town, is_active=False)
    assert not notice_list(user=retired, today=TODAY).exists()


def test_a_supporting_units_officer_sees_the_part_but_may_not_answer_it(town, bureau, alice):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    task.supporting_units.set([bureau])
    item = SupervisionNoticeItemFactory(task=task)
    assert [i.pk for i in visible_items(user=alice, today=TODAY)] == [item.pk]
    assert not access.can_reply_notice(alice, task)


def test_who_may_issue_and_reply(town, bob, sam, sue, chief, root_admin):
    task = TaskFactory(lead_unit=town)
    assert [u.username for u in (bob, sam, sue, chief, root_admin)
            if access.can_issue_notice(u, task)] == ["sam", "chief", "root"]
    assert [u.username for u in (bob, sam, sue, chief, root_admin)
            if access.can_reply_notice(u, task)] == ["bob", "sam", "chief", "root"]


def test_the_rule_books_names_are_the_models_choices():
    """tracker.deadlines names colours and states as strings (it does not import the notices'
    models): they must be exactly the choices the models and the API offer."""
    from tracker.models import NoticeColour, NoticeState

    assert {deadlines.NOTICE_BLUE, deadlines.NOTICE_YELLOW, deadlines.NOTICE_RED} == set(
        NoticeColour.values)
    assert {deadlines.NOTICE_PENDING, deadlines.NOTICE_PARTIAL, deadlines.NOTICE_REPLIED,
            deadlines.NOTICE_OVERDUE} == set(NoticeState.values)
