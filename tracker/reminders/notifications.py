"""Messages and their deliveries: render, send once per channel, record failures, read state.

Sending, one delivery at a time:

- Claim: a conditional UPDATE (pending → sending, attempts n → n+1) that one worker wins; the
  new attempts number is the claim's token, and every later write of this try is conditional
  on it, so a worker that lost its claim can never overwrite the next one's.
- Send outside any transaction. The moment the SMTP or robot server accepts the message the
  transport calls back and "sent" (with sent_at) is committed at once, in its own statement,
  before QUIT or anything else that could fail.
- Lease: while a worker sends a batch, a thread renews it every third of
  TRACKER_DELIVERY_LEASE_SECONDS (the claimed delivery's claimed_at, and next_attempt_at of the
  batch's deliveries still waiting). A worker that dies stops renewing; the requeue (beat,
  every TRACKER_DELIVERY_REQUEUE_SECONDS) then returns its claim to pending and queues it and
  the rest of its batch again, within about lease + requeue interval. A slow worker that is
  alive keeps its claim.

A delivery that is not pending is never sent again, so a duplicated queue message or a re-run
sweep cannot send twice. The one window left: a worker killed (or cut off from the database)
after the server accepted a message and before "sent" was committed. That delivery is sent
again after the lease; the resend carries the same Message-ID (e-mail) and an
X-Tracker-Delivery header "<id>/<try>" (e-mail and robots), and its log line says the previous
try was interrupted, so a duplicate can be recognised.
"""

import datetime as dt
import logging
import threading
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
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
from tracker.reminders.transports import (
    TRANSPORTS,
    Attempt,
    SendFailed,
    TryLater,
    transports_for,
)

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
    if notification.reminder_count:  # a digest that lists the most pressing, counts them all
        overdue = notification.overdue_count
        due_soon = notification.reminder_count - overdue
        more = notification.reminder_count - len(listed)
    return {
        "recipient_name": recipient_name,
        "day": notification.day,
        "items": listed,
        "more": more,
        "overdue": overdue,
        "due_soon": due_soon,
        "events": events,
        "event": events[0] if events else None,
        # A message of many events (an import's new tasks) lists the first of them.
        "listed_events": events[:settings.TRACKER_DIGEST_MAX_ITEMS],
        "more_events": max(0, len(events) - settings.TRACKER_DIGEST_MAX_ITEMS),
        "site_url": settings.TRACKER_SITE_URL,
    }


def render_message(notification: Notification, recipient_name: str) -> tuple[str, str]:
    """(subject, body) for the in-app notification and the e-mail."""
    context = _context(notification, recipient_name)
    kind = notification.kind
    subject = render_to_string(f"tracker/email/{kind}_subject.txt", context)
    body = render_to_string(f"tracker/email/{kind}_body.txt", context)
    return _fits_title(" ".join(subject.split())), body.strip() + "\n"


def _fits_title(subject: str) -> str:
    """The subject cut to what a notification's title holds (a task's title may be longer)."""
    limit = Notification._meta.get_field("title").max_length
    return subject if len(subject) <= limit else subject[:limit - 1] + "…"


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
        list(notifications.values()), ["title", "body", "items", "reminder_count", "overdue_count"],
        batch_size=500
    )
    created = Delivery.objects.bulk_create(deliveries, batch_size=1000)
    return [delivery.pk for delivery in created]


def _delivery(notification: Notification, channel: str, now: dt.datetime) -> Delivery:
    return Delivery(
        notification_id=notification.pk,
        channel=channel,
        created_at=now,
        # The batch that creates it queues it; the requeue queues it again only if no worker
        # has taken it by then (its queued message was lost).
        next_attempt_at=now + _queue_timeout(),
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

# last_error of a claim that the requeue took back from a worker that stopped renewing it.
INTERRUPTED = "发送过程中断"


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS)


def _queue_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TRACKER_DELIVERY_QUEUE_TIMEOUT_SECONDS)


def delivery_send(
    *, delivery_id: int, final: bool = False, now: dt.datetime | None = None,
    lease: "BatchLease | None" = None,
) -> str:
    """Send one delivery if it is still pending. Returns "sent", "failed" or "skipped".

    A transient failure puts it back to pending and raises DeliveryTryLater, unless `final`
    (the retries are used up): then, like a permanent failure, it is recorded as failed.
    `lease`, when a batch is being sent, is told which claim to keep renewing.
    """
    if lease is None:  # one delivery on its own (the retrying task): a lease of its own
        with BatchLease([]) as own:
            return delivery_send(delivery_id=delivery_id, final=final, now=now, lease=own)
    now = now or timezone.now()
    delivery = (
        Delivery.objects.select_related(
            "notification__recipient_user", "notification__recipient_unit"
        )
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return "skipped"
    number = delivery.attempts + 1
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=number)
    if claimed != 1:
        return "skipped"
    lease.holding(delivery_id, number)
    try:
        return _send_claimed(delivery, number, final)
    finally:
        lease.holding(None, None)


def _send_claimed(delivery: Delivery, number: int, final: bool) -> str:
    transport_class = TRANSPORTS.get(delivery.channel)
    if transport_class is None:
        delivery_failed(delivery_id=delivery.pk, error=f"未知渠道：{delivery.channel}",
                        attempt=number)
        _log_send(delivery, number, "-", "failed", f"未知渠道：{delivery.channel}")
        return "failed"
    transport = transport_class(getattr(delivery.notification, transport_class.recipient_field))
    if delivery.last_error.startswith(INTERRUPTED):
        logger.warning(
            "通知重发 delivery=%s channel=%s recipient=%s attempt=%s：上一次发送中断，"
            "对方可能已经收到，若重复可按 Message-ID / X-Tracker-Delivery 识别",
            delivery.pk, delivery.channel, transport.label(), number,
        )
    recorded: list[bool] = []

    def accepted() -> None:
        if not recorded:
            recorded.append(_record_sent(delivery, number))

    try:
        transport.notify(delivery.notification, Attempt(delivery.pk, number, accepted))
    except TryLater as error:
        if final:
            message = f"重试{number}次后仍失败：{error}"
            delivery_failed(delivery_id=delivery.pk, error=message, attempt=number)
            _log_send(delivery, number, transport.label(), "failed", message)
            return "failed"
        # Past the retrying task's countdown, so that the requeue leaves it to that task.
        retry_after = dt.timedelta(seconds=settings.TRACKER_DELIVERY_RETRY_BACKOFF_MAX)
        returned = Delivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=number
        ).update(
            status=DeliveryStatus.PENDING,
            last_error=str(error)[:2000],
            next_attempt_at=timezone.now() + retry_after + _lease(),
        )
        if not returned:  # the claim was taken over meanwhile: the next try is not ours
            _log_send(delivery, number, transport.label(), "claim-lost", str(error))
            return "skipped"
        _log_send(delivery, number, transport.label(), "retry", str(error))
        raise DeliveryTryLater(str(error)) from error
    except SendFailed as error:
        if not delivery_failed(delivery_id=delivery.pk, error=str(error), attempt=number):
            _log_send(delivery, number, transport.label(), "claim-lost", str(error))
            return "skipped"
        _log_send(delivery, number, transport.label(), "failed", str(error))
        return "failed"
    accepted()  # a transport that returned without calling back: returning is accepting
    _log_send(delivery, number, transport.label(), "sent" if recorded[0] else "sent-unrecorded")
    return "sent"


def _record_sent(delivery: Delivery, number: int) -> bool:
    """The server accepted the message: commit "sent" now, in its own statement. False when
    this try's claim was taken over meanwhile (it stopped being renewed in time)."""
    rows = Delivery.objects.filter(
        pk=delivery.pk, attempts=number,
        status__in=[DeliveryStatus.SENDING, DeliveryStatus.PENDING],
    ).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
    return rows == 1


def _log_send(
    delivery: Delivery, number: int, recipient: str, outcome: str, detail: str = ""
) -> None:
    """One line per send: delivery, channel, recipient, try and outcome (sent, retry,
    failed; sent-unrecorded: accepted while another try had taken the claim over;
    claim-lost: failed after another try had taken the claim over)."""
    level = logging.INFO if outcome in ("sent", "retry") else logging.WARNING
    logger.log(
        level,
        "通知发送 delivery=%s channel=%s recipient=%s attempt=%s outcome=%s%s",
        delivery.pk, delivery.channel, recipient, number, outcome,
        f" detail={detail}" if detail else "",
        extra={"delivery_id": delivery.pk, "channel": delivery.channel,
               "recipient": recipient, "attempt": number, "outcome": outcome},
    )


def delivery_failed(*, delivery_id: int, error: str, attempt: int | None = None) -> bool:
    """Record a delivery that will not be sent: it stays visible in the admin. With `attempt`,
    only if that try still holds the claim."""
    deliveries = Delivery.objects.filter(
        pk=delivery_id, status__in=[DeliveryStatus.SENDING, DeliveryStatus.PENDING]
    )
    if attempt is not None:
        deliveries = deliveries.filter(attempts=attempt)
    return deliveries.update(status=DeliveryStatus.FAILED, last_error=error[:2000]) == 1


class BatchLease:
    """Keeps a batch's lease while a worker sends it: a thread that renews it every third of
    TRACKER_DELIVERY_LEASE_SECONDS until the batch ends, however long one send takes."""

    def __init__(self, delivery_ids: list[int]) -> None:
        self.waiting = list(delivery_ids)
        self.current: tuple[int, int] | None = None
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="delivery-lease", daemon=True)

    def __enter__(self) -> "BatchLease":
        deliveries_lease_renew(waiting=self.waiting, current=None, now=timezone.now())
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.thread.join()

    def holding(self, delivery_id: int | None, number: int | None) -> None:
        """The claim being sent now (None between sends)."""
        with self.lock:
            self.current = (delivery_id, number) if delivery_id is not None else None

    def done(self, delivery_id: int) -> None:
        with self.lock:
            self.waiting.remove(delivery_id)

    def _run(self) -> None:
        interval = settings.TRACKER_DELIVERY_LEASE_SECONDS / 3
        try:
            while not self.stopped.wait(interval):
                with self.lock:
                    waiting, current = list(self.waiting), self.current
                try:
                    deliveries_lease_renew(waiting=waiting, current=current, now=timezone.now())
                except DatabaseError as error:
                    logger.warning("发送租期续期失败（稍后再试）：%s", error)
        finally:
            connections.close_all()  # this thread's own connections


def deliveries_lease_renew(
    *, waiting: list[int], current: tuple[int, int] | None, now: dt.datetime
) -> None:
    """Renew a batch's lease: the claim being sent (only while this try holds it) and the
    deliveries of the batch still waiting their turn."""
    if current is not None:
        delivery_id, number = current
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.SENDING, attempts=number
        ).update(claimed_at=now)
    if waiting:
        Delivery.objects.filter(pk__in=waiting, status=DeliveryStatus.PENDING).update(
            next_attempt_at=now + _lease()
        )


def deliveries_send_batch(*, delivery_ids: list[int]) -> dict[str, int]:
    """Send a batch under a renewed lease; a transient failure is handed to its own retrying
    task, the rest go on."""
    outcome = {"sent": 0, "failed": 0, "skipped": 0, "retrying": 0}
    with BatchLease(delivery_ids) as lease:
        for delivery_id in delivery_ids:
            lease.done(delivery_id)
            try:
                outcome[delivery_send(delivery_id=delivery_id, lease=lease)] += 1
            except DeliveryTryLater:
                outcome["retrying"] += 1
                _enqueue("tracker.tasks.send_delivery", delivery_id)
    return outcome


def deliveries_requeue(*, now: dt.datetime, batch_size: int = 500) -> int:
    """Queue again what was left behind: claims whose lease ran out (their worker died) go
    back to pending at once, and pending deliveries whose time has come (a dead worker's
    batch, a lost queue message, a broker that was down) are queued in batches, each pushed
    a queue timeout ahead so that the next run does not queue it again meanwhile."""
    interrupted = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - _lease()
    ).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now,
        last_error=f"{INTERRUPTED}（租期已过，发送进程可能已退出），重新排队",
    )
    if interrupted:
        logger.warning("%d项发送在租期内没有续期（发送进程可能已退出），已退回待发送", interrupted)
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
            break
        last_id = ids[-1]
        with transaction.atomic():
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
                next_attempt_at=now + _queue_timeout()
            )
            queue_delivery_batch(ids)
        queued += len(ids)
    if queued:
        logger.info("重新排队%d项待发送", queued)
    return queued


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
