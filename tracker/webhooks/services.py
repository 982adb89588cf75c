"""Outbound webhooks: record a delivery per subscribed endpoint with the history row, send it
after commit, retry with backoff, record the outcome.

- Record (`webhook_deliveries_record_batch`, called by tracker.services.history.record_events in the
  change's own transaction): one WebhookDelivery per active endpoint that subscribes to the
  event and, when it is limited to a unit, sees the task (tracker.access.tasks_within_subtree_q).
  The (endpoint, history row) pair is unique, so an event is recorded once per endpoint; a
  rolled-back change leaves no delivery and queues nothing (the queueing is on_commit).
- Send (`webhook_delivery_send`): the same claim as the reminder deliveries: a conditional
  UPDATE pending → sending, attempts n → n+1, that one worker wins; every later write of the
  try is conditional on that attempts number. A delivery that is not pending is never sent, so
  a duplicated queue message or a second worker cannot send it twice. The POST is bounded by
  TRACKER_OUTBOUND_WEBHOOK_TIMEOUT (shorter than the lease), redirects are not followed.
  2xx → delivered; 5xx, 429, timeouts and network errors → pending again after an exponential
  backoff (capped), until the attempts allowed are used up → failed; any other answer
  (4xx, 3xx) → failed at once. Failures keep their reason and status code.
- Requeue (`webhook_deliveries_requeue`, beat): retries whose time has come, messages lost
  by the broker, and claims whose worker died (older than the lease) are queued again.

The one window left, as for e-mail: a worker killed after the receiver answered 2xx and before
"delivered" was committed sends again after the lease; the X-Tracker-Delivery header (the
delivery's id, the same on every try) lets the receiver drop the duplicate.
"""

import datetime as dt
import functools
import json
import logging
import time

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from tracker import access
from tracker.errors import DomainError
from tracker.models import (
    WEBHOOK_EVENT_FIELDS,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
    User,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    generate_webhook_secret,
)
from tracker.reminders.transports import SendFailed, TryLater, http_post
from tracker.webhooks.signing import signed_headers
from tracker.webhooks.urls import validate_webhook_url

logger = logging.getLogger(__name__)

SEND_TASK = "tracker.tasks.webhook_deliveries_send"
# Only the status counts: the answer's body is not read (nor can a slow one hold the claim).
MAX_ANSWER_BYTES = 0
INTERRUPTED = "发送过程中断（租期已过，发送进程可能已退出），重新排队"

_EVENT_OF_ACTION = {
    TaskAction.CREATE: WebhookEvent.CREATED,
    TaskAction.CLOSE: WebhookEvent.CLOSED,
    TaskAction.REOPEN: WebhookEvent.REOPENED,
}


def webhook_event_of(action: str) -> WebhookEvent:
    """The webhook event a history action is: created, closed, reopened, or changed."""
    return _EVENT_OF_ACTION.get(action, WebhookEvent.CHANGED)


def backoff(attempt: int) -> dt.timedelta:
    """The wait after the `attempt`-th failed try: base × 2^(attempt-1), capped."""
    base = settings.TRACKER_OUTBOUND_WEBHOOK_BACKOFF_SECONDS
    cap = settings.TRACKER_OUTBOUND_WEBHOOK_BACKOFF_MAX_SECONDS
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS)


def _queue_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TRACKER_DELIVERY_QUEUE_TIMEOUT_SECONDS)


# --- endpoints (the admin's writes) -------------------------------------------------------


@transaction.atomic
def webhook_endpoint_save(
    *, endpoint: WebhookEndpoint, actor: User, now: dt.datetime
) -> WebhookEndpoint:
    """Create or change an endpoint; administrators only. The URL is checked here too."""
    if not access.may_manage_webhooks(actor):
        raise DomainError("只有系统管理员可以管理外部推送地址")
    try:
        validate_webhook_url(endpoint.url)
    except ValidationError as error:
        raise DomainError(error.messages[0], fields={"url": error.messages[0]}) from error
    if endpoint.pk is None:
        endpoint.created_by = actor
        endpoint.created_at = now
    endpoint.updated_at = now
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User, now: dt.datetime
) -> str:
    """A new signing secret (the old one stops working at once). Returns it."""
    if not access.may_manage_webhooks(actor):
        raise DomainError("只有系统管理员可以管理外部推送地址")
    secret = generate_webhook_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret, updated_at=now)
    endpoint.secret = secret
    return secret


# --- recording, with the history row --------------------------------------------------------


def _unit(unit) -> dict | None:
    return None if unit is None else {"id": unit.pk, "name": unit.name}


# Code → label, read once: an import's thousands of payloads look them up again and again
# (`TaskStatus.values` builds its list on every call).
_STATUS_LABELS = dict(TaskStatus.choices)
_ACTION_LABELS = dict(TaskAction.choices)


def _status_label(code: str) -> str:
    return _STATUS_LABELS.get(code, code)


@functools.lru_cache(maxsize=64)
def _local_iso(at: dt.datetime) -> str:
    """The change's time as the payload writes it (a batch's rows share one clock)."""
    return timezone.localtime(at).isoformat()


def webhook_payload(*, task_event: TaskEvent, task: Task, event: WebhookEvent) -> dict:
    """The JSON body: stable codes for programs, Chinese labels (…_label) for people."""
    actor = task_event.actor
    return {
        "event": event.value,
        "event_label": event.label,
        "event_id": task_event.pk,
        "occurred_at": _local_iso(task_event.at),
        "action": task_event.action,
        "action_label": _ACTION_LABELS[task_event.action],
        "from_status": task_event.from_status,
        "from_status_label": _status_label(task_event.from_status),
        "to_status": task_event.to_status,
        "to_status_label": _status_label(task_event.to_status),
        "deadline_from": task_event.deadline_from and task_event.deadline_from.isoformat(),
        "deadline_to": task_event.deadline_to and task_event.deadline_to.isoformat(),
        "lead_unit_from_id": task_event.lead_unit_from_id,
        "lead_unit_to_id": task_event.lead_unit_to_id,
        "note": task_event.note,
        "actor": None if actor is None else {
            "id": actor.pk, "name": actor.full_name or actor.username,
        },
        "task": {
            "id": task.pk,
            "title": task.title,
            "status": task.status,
            "status_label": _status_label(task.status),
            "deadline": task.deadline and task.deadline.isoformat(),
            "lead_unit": _unit(task.lead_unit),
            "inspection_id": task.inspection_id,
            "problem_id": task.problem_id,
        },
    }


# Task ids per query when asking which tasks a scoped endpoint sees.
_IDS_PER_QUERY = 2000


def webhook_deliveries_record_batch(rows: list[tuple[TaskEvent, Task | None]]) -> list[int]:
    """In the caller's transaction: one pending delivery per matching endpoint for each of
    these history rows (saved), queued after commit; each row with the task as it stood
    after its change (None: read it now). The endpoints once per kind of event, each scoped
    endpoint's reach once for all the tasks, one INSERT, one queued message. Returns the
    delivery ids."""
    by_event: dict[WebhookEvent, list[tuple[TaskEvent, Task | None]]] = {}
    for task_event, task in rows:
        by_event.setdefault(webhook_event_of(task_event.action), []).append((task_event, task))
    deliveries = []
    timeout = _queue_timeout()
    for event, pairs in by_event.items():
        endpoints = list(
            WebhookEndpoint.objects.filter(active=True, **{WEBHOOK_EVENT_FIELDS[event]: True})
            .select_related("scope_unit")
            .order_by("pk")  # deliveries in the endpoints' order, the same on every database
        )
        if not endpoints:
            continue
        task_ids = list(dict.fromkeys(task_event.task_id for task_event, _ in pairs))
        reach = {
            endpoint.pk: _tasks_seen_by(endpoint, task_ids)
            for endpoint in endpoints if endpoint.scope_unit is not None
        }
        wanted = [
            (task_event, task, [e for e in endpoints
                                if e.scope_unit is None or task_event.task_id in reach[e.pk]])
            for task_event, task in pairs
        ]
        unread = {task_event.task_id for task_event, task, chosen in wanted
                  if chosen and task is None}
        read = Task.objects.select_related("lead_unit").in_bulk(unread) if unread else {}
        for task_event, task, chosen in wanted:
            if not chosen:
                continue
            payload = webhook_payload(task_event=task_event, event=event,
                                      task=task if task is not None else read[task_event.task_id])
            now = task_event.at  # the change's own clock, read once by its service
            deliveries += [
                WebhookDelivery(
                    endpoint=endpoint, task_event=task_event, event=event, payload=payload,
                    attempt_limit=settings.TRACKER_OUTBOUND_WEBHOOK_MAX_ATTEMPTS,
                    created_at=now,
                    # Queued after commit; the requeue queues it again only if no worker took it.
                    next_attempt_at=now + timeout,
                )
                for endpoint in chosen
            ]
    if not deliveries:
        return []
    ids = [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(deliveries)]
    _queue(ids)
    return ids


def _tasks_seen_by(endpoint: WebhookEndpoint, task_ids: list[int]) -> set[int]:
    """Which of these tasks lie within the endpoint's unit (tracker.access's rule)."""
    seen: set[int] = set()
    for start in range(0, len(task_ids), _IDS_PER_QUERY):
        seen.update(
            Task.objects.filter(access.tasks_within_subtree_q(endpoint.scope_unit),
                                pk__in=task_ids[start:start + _IDS_PER_QUERY])
            .values_list("pk", flat=True)
        )
    return seen


def _queue(delivery_ids: list[int]) -> None:
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(delivery_ids: list[int]) -> None:
    """After commit. A broker that cannot take the message must not fail the change that was
    made: the deliveries stay pending and the requeue queues them once their time is up."""
    try:
        current_app.signature(SEND_TASK, args=(delivery_ids,)).delay()
    except (KombuOperationalError, OSError) as error:
        logger.warning("外部推送排队失败（%s），%d项待发送将由定时任务重新排队",
                       error, len(delivery_ids))


# --- sending ------------------------------------------------------------------------------


def webhook_deliveries_send(*, delivery_ids: list[int]) -> dict[str, int]:
    outcome = {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    for delivery_id in delivery_ids:
        outcome[webhook_delivery_send(delivery_id=delivery_id)] += 1
    return outcome


def webhook_delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is still pending: "delivered", "retry", "failed" or "skipped".
    Idempotent by state: a delivery another try holds or finished is skipped."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=WebhookDeliveryStatus.PENDING).first()
    )
    if delivery is None:
        return "skipped"
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(status=WebhookDeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=number)
    if claimed != 1:
        return "skipped"
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _failed(delivery, number, "推送地址已停用，未发送", None)
    try:
        validate_webhook_url(endpoint.url)
    except ValidationError as error:
        return _failed(delivery, number, f"接收地址无效：{error.messages[0]}", None)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signed_headers(
        secret=endpoint.secret, event=delivery.event, delivery_id=delivery.pk, attempt=number,
        timestamp=int(time.time()), body=body,
    )
    try:
        status, _answer = http_post(
            endpoint.url, body, headers, timeout=settings.TRACKER_OUTBOUND_WEBHOOK_TIMEOUT,
            follow_redirects=False, max_read=MAX_ANSWER_BYTES,
        )
    except TryLater as error:
        if number >= delivery.attempt_limit:
            return _failed(delivery, number, f"已尝试{number}次仍失败：{error}", error.status)
        return _later(delivery, number, str(error), error.status)
    except SendFailed as error:
        return _failed(delivery, number, f"接收方拒绝：{error}", error.status)
    rows = WebhookDelivery.objects.filter(
        pk=delivery.pk, attempts=number,
        status__in=[WebhookDeliveryStatus.SENDING, WebhookDeliveryStatus.PENDING],
    ).update(status=WebhookDeliveryStatus.DELIVERED, delivered_at=timezone.now(),
             last_status_code=status, last_error="")
    _log(delivery, number, "delivered" if rows else "delivered-unrecorded", str(status))
    return "delivered"


def _later(delivery: WebhookDelivery, number: int, error: str, status: int | None) -> str:
    wait = backoff(number)
    rows = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDeliveryStatus.SENDING, attempts=number
    ).update(status=WebhookDeliveryStatus.PENDING, next_attempt_at=timezone.now() + wait,
             last_error=f"第{number}次发送失败：{error}"[:2000], last_status_code=status)
    if not rows:
        _log(delivery, number, "claim-lost", error)
        return "skipped"
    _log(delivery, number, "retry", f"{error}; 约{int(wait.total_seconds())}秒后重试")
    return "retry"


def _failed(delivery: WebhookDelivery, number: int, error: str, status: int | None) -> str:
    rows = WebhookDelivery.objects.filter(
        pk=delivery.pk, attempts=number,
        status__in=[WebhookDeliveryStatus.SENDING, WebhookDeliveryStatus.PENDING],
    ).update(status=WebhookDeliveryStatus.FAILED, last_error=error[:2000],
             last_status_code=status)
    if not rows:
        _log(delivery, number, "claim-lost", error)
        return "skipped"
    _log(delivery, number, "failed", error)
    return "failed"


def _log(delivery: WebhookDelivery, number: int, outcome: str, detail: str) -> None:
    level = logging.INFO if outcome in ("delivered", "retry") else logging.WARNING
    logger.log(
        level, "外部推送 delivery=%s endpoint=%s event=%s attempt=%s outcome=%s detail=%s",
        delivery.pk, delivery.endpoint_id, delivery.event, number, outcome, detail,
        extra={"delivery_id": delivery.pk, "endpoint_id": delivery.endpoint_id,
               "attempt": number, "outcome": outcome},
    )


# --- requeue and re-send -------------------------------------------------------------------


def webhook_deliveries_requeue(*, now: dt.datetime, batch_size: int = 500) -> int:
    """Queue what is due: retries whose backoff has passed, lost queue messages, and claims
    whose worker stopped within the lease (back to pending first)."""
    interrupted = WebhookDelivery.objects.filter(
        status=WebhookDeliveryStatus.SENDING, claimed_at__lt=now - _lease()
    ).update(status=WebhookDeliveryStatus.PENDING, next_attempt_at=now, last_error=INTERRUPTED)
    if interrupted:
        logger.warning("%d项外部推送在租期内未完成，已退回待发送", interrupted)
    queued = 0
    last_id = 0
    while True:
        ids = list(
            WebhookDelivery.objects.filter(
                status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now, pk__gt=last_id
            ).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_id = ids[-1]
        with transaction.atomic():
            WebhookDelivery.objects.filter(
                pk__in=ids, status=WebhookDeliveryStatus.PENDING
            ).update(next_attempt_at=now + _queue_timeout())
            _queue(ids)
        queued += len(ids)
    if queued:
        logger.info("外部推送重新排队%d项", queued)
    return queued


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery, actor: User, now: dt.datetime) -> bool:
    """Admin (重新发送): a failed delivery is queued again with a new round of tries. True
    when it was failed and is queued; the same delivery id goes out again."""
    if not access.may_manage_webhooks(actor):
        raise DomainError("只有系统管理员可以重新发送外部推送")
    rows = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDeliveryStatus.FAILED
    ).update(
        status=WebhookDeliveryStatus.PENDING, next_attempt_at=now + _queue_timeout(),
        attempt_limit=F("attempts") + settings.TRACKER_OUTBOUND_WEBHOOK_MAX_ATTEMPTS,
    )
    if rows:
        _queue([delivery.pk])
    return bool(rows)
