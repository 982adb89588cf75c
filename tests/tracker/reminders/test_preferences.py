"""Issue 11: per-person preferences, honoured by the sender — an event switched off is not
sent, the channel choice holds (inbox always, e-mail if chosen), digest mode waits for the
daily digest; and the settings page every logged-in user has."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.tracker.factories import TaskFactory, UserFactory
from tests.tracker.reminders.conftest import at
from tracker.models import (
    Delivery,
    DeliveryMode,
    EventNotice,
    EventType,
    Notification,
    NotificationKind,
    NotificationPreference,
    Role,
    TaskStatus,
)
from tracker.reminders.preferences import notification_preferences_update, preference_of
from tracker.reminders.services import reminders_sweep
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def bob2(town):
    return UserFactory(username="bob2", unit=town, role=Role.OFFICER)


def _send_back(town, sam, when=None):
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED, deadline=D(2026, 12, 31))
    task_services.task_send_back(task=task, actor=sam, note="证明材料缺页", now=when)
    return task


def test_an_event_switched_off_is_not_sent_to_that_person(town, bob, bob2, sam):
    notification_preferences_update(user=bob, on_sent_back=False)
    _send_back(town, sam)
    assert list(EventNotice.objects.values_list("recipient_user__username", flat=True)) == ["bob2"]
    assert not Notification.objects.filter(recipient_user=bob).exists()
    # Other events still reach them.
    task = TaskFactory(lead_unit=town, status=TaskStatus.COMPLETED)
    task_services.task_reopen(task=task, actor=sam, note="复查发现反弹")
    assert EventNotice.objects.filter(recipient_user=bob, event=EventType.REOPENED).count() == 1


def test_the_channel_choice_is_respected_inbox_always(town, bob, bob2, sam):
    notification_preferences_update(user=bob, by_email=False)
    _send_back(town, sam)
    for person, channels in ((bob, []), (bob2, ["email"])):
        [message] = Notification.objects.filter(recipient_user=person, kind=NotificationKind.EVENT)
        assert list(Delivery.objects.filter(notification=message)
                    .values_list("channel", flat=True)) == channels


def test_the_channel_choice_also_holds_for_the_daily_reminders(bureau, alice):
    notification_preferences_update(user=alice, by_email=False)
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))
    reminders_sweep(now=at(D(2026, 10, 9)))
    digest = Notification.objects.get(recipient_user=alice, kind=NotificationKind.DIGEST)
    assert not Delivery.objects.filter(notification=digest).exists()


def test_digest_mode_waits_for_the_daily_digest_once(town, bob, bob2, sam):
    notification_preferences_update(user=bob, mode=DeliveryMode.DIGEST)
    task = _send_back(town, sam, when=at(D(2026, 11, 2), 15))
    # Acknowledged (签收) at once: no 签收 reminder joins the digests below.
    task_services.task_acknowledge(task=task, actor=bob2, now=at(D(2026, 11, 2), 16))
    # bob2 (immediate) has a message at once; bob's notice waits, in no message yet.
    assert Notification.objects.filter(
        recipient_user=bob2, kind=NotificationKind.EVENT
    ).count() == 1
    assert not Notification.objects.filter(recipient_user=bob).exists()
    notice = EventNotice.objects.get(recipient_user=bob)
    assert notice.notification is None

    reminders_sweep(now=at(D(2026, 11, 3)))
    digest = Notification.objects.get(recipient_user=bob)
    assert digest.kind == NotificationKind.DIGEST
    assert "任务被退回整改" in digest.body
    assert "证明材料缺页" in digest.body
    assert "动态1件" in digest.title
    assert [item["event"] for item in digest.items] == ["sent_back"]
    notice.refresh_from_db()
    assert notice.notification_id == digest.pk
    assert list(Delivery.objects.filter(notification=digest).values_list("channel", flat=True)) \
        == ["email"]

    # The next sweeps (same day, next day) do not send it again; bob2 gets no digest of it.
    reminders_sweep(now=at(D(2026, 11, 3), 15))
    reminders_sweep(now=at(D(2026, 11, 4)))
    assert Notification.objects.filter(recipient_user=bob).count() == 1
    assert not Notification.objects.filter(recipient_user=bob2,
                                           kind=NotificationKind.DIGEST).exists()


def test_defaults_without_a_stored_row(bob):
    pref = preference_of(bob)
    assert pref.pk is None
    assert pref.by_email
    assert pref.mode == DeliveryMode.IMMEDIATE
    assert all(pref.wants(event) for event in EventType.values)


# --- the settings page --------------------------------------------------------------------


def test_every_logged_in_user_has_the_settings_page_linked_from_the_menu(client, bob, sam):
    url = reverse("web:notification_preferences")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for person in (bob, sam):
        client.force_login(person)
        page = client.get(url).content.decode()
        assert "通知设置" in page
        assert "站内消息（始终开启）" in page
        assert "本单位的任务被退回整改" in page
        assert "每日汇总" in page
        home = client.get(reverse("web:task_list")).content.decode()
        assert f'href="{url}"' in home


def test_the_settings_page_saves_the_choices(client, bob):
    client.force_login(bob)
    url = reverse("web:notification_preferences")
    answer = client.post(url, {
        "on_submitted": "on", "on_extension_decided": "on", "on_reopened": "on",
        "on_supporting_assigned": "on", "mode": "digest",
    })  # on_sent_back and by_email unticked
    assert answer.status_code == 302
    pref = NotificationPreference.objects.get(user=bob)
    assert (pref.on_sent_back, pref.by_email, pref.mode) == (False, False, "digest")
    assert pref.on_submitted
    assert pref.on_reopened
    page = client.get(url).content.decode()
    assert "通知设置已保存" in page


def test_bad_input_is_refused_in_chinese_and_nothing_changes(client, bob):
    client.force_login(bob)
    answer = client.post(reverse("web:notification_preferences"), {"mode": "hourly"})
    assert answer.status_code == 400
    assert "请选择“即时”或“每日汇总”" in answer.content.decode()
    assert not NotificationPreference.objects.filter(user=bob).exists()


def test_a_user_only_ever_changes_their_own_preferences(client, bob, bob2):
    client.force_login(bob)
    client.post(reverse("web:notification_preferences"), {"mode": "digest",
                                                             "user": bob2.pk})
    assert NotificationPreference.objects.get(user=bob).mode == "digest"
    assert not NotificationPreference.objects.filter(user=bob2).exists()


# --- the API: /api/v1/notifications/preferences/ -------------------------------------------


def test_the_api_reads_and_changes_only_my_preferences(client_for, bob, bob2):
    url = "/api/v1/notifications/preferences/"
    assert client_for(None).get(url).status_code == 401
    api = client_for(bob)
    body = api.get(url).json()
    assert body == {"on_submitted": True, "on_sent_back": True, "on_extension_decided": True,
                    "on_reopened": True, "on_supporting_assigned": True, "on_mentioned": True,
                    "on_instructed": True, "on_watched": True,
                    "on_notice_issued": True, "on_notice_replied": True,
                    "on_notice_overdue": True, "on_recheck_due": True,
                    "on_recheck_reported": True, "on_recheck_overdue": True,
                    "on_assigned": True, "by_email": True, "mode": "immediate", "inbox": True}
    # Naming another user is not a way in: the field is unknown, the write refused whole.
    someone_else = api.patch(url, {"on_sent_back": False, "user": bob2.pk}, format="json")
    assert someone_else.status_code == 400
    assert someone_else.json()["detail"] == "未知字段：user"
    assert not NotificationPreference.objects.exists()
    answer = api.patch(url, {"on_sent_back": False, "mode": "digest"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["on_sent_back"] is False
    assert answer.json()["mode"] == "digest"
    pref = NotificationPreference.objects.get(user=bob)
    assert (pref.on_sent_back, pref.mode, pref.by_email) == (False, "digest", True)
    assert not NotificationPreference.objects.filter(user=bob2).exists()


def test_the_api_refuses_a_bad_mode_in_chinese_and_changes_nothing(client_for, bob):
    answer = client_for(bob).patch("/api/v1/notifications/preferences/",
                                   {"mode": "hourly", "by_email": False}, format="json")
    assert answer.status_code == 400
    assert "发送方式只能是" in str(answer.json())
    assert not NotificationPreference.objects.filter(user=bob).exists()


def test_the_inbox_page_lists_digest_events_and_review_deadlines(client, town, bob, sam, chief):
    """A digest holding an event (digest mode) and a review reminder renders both on 消息."""
    notification_preferences_update(user=sam, mode=DeliveryMode.DIGEST)
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, title="清理违规津补贴")
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 11, 2), 10))
    reminders_sweep(now=at(D(2026, 11, 6)))  # review due 9 Nov: reminder on Friday 6th
    client.force_login(sam)
    page = client.get(reverse("web:inbox")).content.decode()
    assert "【任务提交销号，等待审核】" in page
    assert "审核时限：2026年11月9日" in page
    assert page.count("清理违规津补贴") == 2
