"""Messages and their deliveries: render, send once per channel, record failures, read state.

Sending is claimed with a conditional UPDATE (pending → sending), done outside any transaction,
and finished with another (sending → sent / failed). A delivery that is not pending is never
sent again, so a duplicated queue message or a re-run sweep cannot send twice. The one window
left is a worker killed after the robot or SMTP server accepted a message but before "sent" was
committed: after TRACKER_DELIVERY_LEASE_SECONDS the sweep returns such a claim to pending.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from tracker.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Unit,
    User,
)
from tracker.reminders.preferences import preferences_for
from tracker.reminders.transports import TRANSPORTS, SendFailed, TryLater, transports_for

logger = logging.getLogger(__name__)


class DeliveryTryLater(Exception):
    """A delivery failed transiently and went back to pending; the caller should retry it."""


# --- rendering ---------------------------------------------------------------------------


def _split(items: list[dict]) -> tuple[list[dict], list[dict]]:
    """(reminders, events) of a message's items."""
    return ([item for item in items if "event" not in item],
            [item for item in items if "event" in item])


def _counts(items: list[dict]) -> tuple[int, int]:
    overdue = sum(1 for item in items if item["level"] == "red")
    return overdue, len(items) - overdue


def _listed(items: list[dict]) -> tuple[list[dict], int]:
    limit = settings.TRACKER_DIGEST_MAX_ITEMS
    return items[:limit], max(0, len(items) - limit)


def _context(notification: Notification, recipient_name: str) -> dict:
    items = notification.items
    if notification.kind == NotificationKind.DISPATCH:
        info = items[0]
        return {
            "recipient_name": recipient_name,
            "unit": info["unit"],
            "open_tasks": info["open_tasks"],
            "report_by": dt.date.fromisoformat(info["report_by"]),
            "month": dt.date.fromisoformat(info["month"]),
            "site_url": settings.TRACKER_SITE_URL,
        }
    reminders, events = _split(items)
    overdue, due_soon = _counts(reminders)
    listed, more = _listed(reminders)
    return {
        "recipient_name": recipient_name,
        "day": notification.day,
        "items": listed,
        "more": more,
        "overdue": overdue,
        "due_soon": due_soon,
        "events": events,
        "event": events[0] if events else None,
        "site_url": settings.TRACKER_SITE_URL,
    }


def render_message(notification: Notification, recipient_name: str) -> tuple[str, str]:
    """(subject, body) for the in-app notification and the e-mail."""
    context = _context(notification, recipient_name)
    kind = notification.kind
    subject = render_to_string(f"tracker/email/{kind}_subject.txt", context)
    body = render_to_string(f"tracker/email/{kind}_body.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"


def render_robot_markdown(notification: Notification, unit: Unit) -> tuple[str, str]:
    """(title, markdown) for a unit's group robots."""
    context = _context(notification, unit.name)
    context["unit"] = unit.name
    text = render_to_string(f"tracker/robot/{notification.kind}.md", context).strip()
    title = "按月调度" if notification.kind == NotificationKind.DISPATCH else "整改任务提醒"
    return title, text


# --- creating notifications with their deliveries ----------------------------------------


def insert_notifications_returning(
    *, kind: str, recipient_field: str, recipient_ids: Iterable[int], day: dt.date,
    now: dt.datetime,
) -> dict[int, int]:
    """INSERT one notification per recipient for (kind, day) unless it exists.

    Returns {recipient_id: notification_id} for the rows this call inserted, and only those:
    ON CONFLICT DO NOTHING RETURNING tells a winner from a loser in one statement.
    """
    recipient_ids = list(recipient_ids)
    if not recipient_ids:
        return {}
    ops = connection.ops
    table = connection.ops.quote_name(Notification._meta.db_table)
    column = f"{recipient_field}_id"
    row = "(%s, %s, %s, %s, '', '', '[]')"
    params: list = []
    for recipient_id in recipient_ids:
        params += [kind, recipient_id, ops.adapt_datefield_value(day),
                   ops.adapt_datetimefield_value(now)]
    sql = (
        f"INSERT INTO {table} (kind, {column}, day, created_at, title, body, items) "
        f"VALUES {', '.join([row] * len(recipient_ids))} "
        f"ON CONFLICT DO NOTHING RETURNING {column}, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def finish_notifications(
    *, notifications: dict[int, Notification], recipient_field: str, now: dt.datetime
) -> list[int]:
    """Render the notifications (recipient id → unsaved-body notification), save their text and
    create one pending delivery per channel the recipient has. Returns the delivery ids."""
    deliveries = []
    if recipient_field == "recipient_user":
        recipients = User.objects.in_bulk(list(notifications), field_name="pk")
    else:
        recipients = Unit.objects.in_bulk(list(notifications), field_name="pk")
    transports = transports_for(recipient_field)
    # A person's channel choice (e-mail or inbox only); the inbox is always on.
    no_email = set()
    if recipient_field == "recipient_user":
        no_email = {uid for uid, pref in preferences_for(list(notifications)).items()
                    if not pref.by_email}
    for recipient_id, notification in notifications.items():
        recipient = recipients[recipient_id]
        if recipient_field == "recipient_user":
            notification.title, notification.body = render_message(
                notification, recipient.display_name
            )
        else:
            notification.title, notification.body = render_robot_markdown(notification, recipient)
        for transport in transports:
            if transport.code == Channel.EMAIL and recipient_id in no_email:
                continue
            if not transport(recipient).is_noop():
                deliveries.append(_delivery(notification, transport.code, now))
    Notification.objects.bulk_update(
        list(notifications.values()), ["title", "body", "items"], batch_size=500
    )
    created = Delivery.objects.bulk_create(deliveries, batch_size=1000)
    return [delivery.pk for delivery in created]


def _delivery(notification: Notification, channel: str, now: dt.datetime) -> Delivery:
    return Delivery(
        notification_id=notification.pk,
        channel=channel,
        created_at=now,
        # The batch that creates it queues it; the sweep queues it again only if it is still
        # pending once a lease has passed (its queued message was lost).
        next_attempt_at=now + dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS),
    )


def queue_delivery_batch(delivery_ids: list[int]) -> None:
    """After commit, queue one message that sends this batch of deliveries."""
    if not delivery_ids:
        return
    ids = list(delivery_ids)
    transaction.on_commit(lambda: _enqueue_after_commit("tracker.tasks.send_delivery_batch", ids))


def _enqueue_after_commit(task_name: str, delivery_ids: list[int]) -> None:
    """The change is committed by now; a broker that cannot take the message must not turn
    it into an error for the person who made the change (a submission, a send-back). The
    deliveries stay pending with their next_attempt_at, and the sweep queues them again once
    that time has passed (`deliveries_requeue`)."""
    try:
        _enqueue(task_name, delivery_ids)
    except (KombuOperationalError, OSError) as error:
        logger.warning("发送任务排队失败（%s），%d项待发送将由催办扫描重新排队",
                       error, len(delivery_ids))


def _enqueue(task_name: str, *args) -> None:
    """Queue a Celery task by its name: the tasks module imports the services, never the
    reverse."""
    current_app.signature(task_name, args=args).delay()


# --- sending ------------------------------------------------------------------------------


def delivery_send(*, delivery_id: int, final: bool = False, now: dt.datetime | None = None) -> str:
    """Send one delivery if it is still pending. Returns "sent", "failed" or "skipped".

    A transient failure puts it back to pending and raises DeliveryTryLater, unless `final`
    (the retries are used up): then, like a permanent failure, it is recorded as failed.
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return "skipped"
    delivery = Delivery.objects.select_related(
        "notification__recipient_user", "notification__recipient_unit"
    ).get(pk=delivery_id)
    try:
        _send(delivery)
    except TryLater as error:
        if final:
            delivery_failed(
                delivery_id=delivery_id, error=f"重试{delivery.attempts}次后仍失败：{error}"
            )
            return "failed"
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            last_error=str(error)[:2000],
            next_attempt_at=timezone.now()
            + dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS),
        )
        raise DeliveryTryLater(str(error)) from error
    except SendFailed as error:
        delivery_failed(delivery_id=delivery_id, error=str(error))
        return "failed"
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _send(delivery: Delivery) -> None:
    transport = TRANSPORTS.get(delivery.channel)
    if transport is None:
        raise SendFailed(f"未知渠道：{delivery.channel}")
    notification = delivery.notification
    transport(getattr(notification, transport.recipient_field)).notify(notification)


def delivery_failed(*, delivery_id: int, error: str) -> None:
    """Record a delivery that will not be sent: it stays visible in the admin."""
    Delivery.objects.filter(
        pk=delivery_id, status__in=[DeliveryStatus.SENDING, DeliveryStatus.PENDING]
    ).update(status=DeliveryStatus.FAILED, last_error=error[:2000])
    logger.warning("通知发送失败 delivery=%s: %s", delivery_id, error)


def deliveries_send_batch(*, delivery_ids: list[int]) -> dict[str, int]:
    """Send a batch; a transient failure is handed to its own retrying task, the rest go on."""
    outcome = {"sent": 0, "failed": 0, "skipped": 0, "retrying": 0}
    for delivery_id in delivery_ids:
        try:
            outcome[delivery_send(delivery_id=delivery_id)] += 1
        except DeliveryTryLater:
            outcome["retrying"] += 1
            _enqueue("tracker.tasks.send_delivery", delivery_id)
    return outcome


def deliveries_requeue(*, now: dt.datetime, batch_size: int = 500) -> int:
    """Queue again what was left behind: claims older than the lease (their worker died) go
    back to pending, and pending deliveries whose time has come are queued in batches."""
    lease = dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS)
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - lease).update(
        status=DeliveryStatus.PENDING, last_error="发送过程中断，重新排队"
    )
    queued = 0
    last_id = 0
    while True:
        ids = list(
            Delivery.objects.filter(
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
                status=DeliveryStatus.PENDING,
                pk__gt=last_id,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return queued
        last_id = ids[-1]
        with transaction.atomic():
            queue_delivery_batch(ids)
        queued += len(ids)


@transaction.atomic
def delivery_retry(*, delivery: Delivery, now: dt.datetime | None = None) -> bool:
    """Admin: send a failed delivery again. True when it was failed and is queued."""
    rows = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now or timezone.now()
    )
    if rows:
        queue_delivery_batch([delivery.pk])
    return bool(rows)


# --- in-app read state --------------------------------------------------------------------


def notification_mark_read(
    *, user: User, notification_id: int, now: dt.datetime | None = None
) -> bool:
    """Mark one of the user's notifications read. False if it is not theirs."""
    if not Notification.objects.filter(pk=notification_id, recipient_user=user).exists():
        return False
    Notification.objects.filter(
        pk=notification_id, recipient_user=user, read_at__isnull=True
    ).update(read_at=now or timezone.now())
    return True


def notification_mark_all_read(*, user: User, now: dt.datetime | None = None) -> int:
    return Notification.objects.filter(recipient_user=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
