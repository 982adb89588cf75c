"""The audit log's one writer (审计日志).

The services that change units, users and roles, inspections and problems, that log people in
and that import ledgers and reports call `audit_record` in their own transaction, so an entry
exists exactly when the change was kept; views that hand data out (evidence downloads, ledger
and report exports) and log people out call it too. Signals are not used: they miss
`QuerySet.update()`, which the services use.

The request is never read from a thread-local: a caller that has one passes its address and
request id explicitly (`**audit_origin(request)`). Passwords, secrets and webhook addresses are
never written: such fields are kept in `changes` only as "changed", without values.
"""

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from tracker.models import AuditAction, AuditEntry, User

__all__ = ["AuditAction", "audit_diff", "audit_origin", "audit_record", "audit_snapshot"]

# A field whose name contains one of these is never written with its value.
SENSITIVE_PARTS = ("password", "secret", "webhook", "token", "otp", "key")
MASK = "***"


def _sensitive(field: str) -> bool:
    name = field.casefold()
    return any(part in name for part in SENSITIVE_PARTS)


def _plain(value):
    """A JSON value for one side of a change: related objects by their name."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Iterable):
        return [_plain(v) for v in value]
    return str(value)


def audit_snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The current values of `fields` of `obj`, as they would be written in an entry."""
    return {field: _plain(getattr(obj, field)) for field in fields}


def audit_diff(before: dict, after: dict) -> dict:
    """field → [old, new] for each field whose value differs."""
    return {
        field: [before.get(field), after.get(field)]
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }


def _masked(changes: dict | None) -> dict:
    masked = {}
    for field, sides in (changes or {}).items():
        if _sensitive(str(field)):
            masked[field] = [MASK, MASK]
        else:
            masked[field] = [_plain(side) for side in sides]
    return masked


def _actor_name(actor: User | None) -> str:
    if actor is None:
        return ""
    if actor.full_name and actor.full_name != actor.username:
        return f"{actor.full_name}（{actor.username}）"
    return actor.username


def audit_origin(request) -> dict:
    """Where a request came from, for `audit_record(..., **audit_origin(request))`: the
    client's address as the login waits count it, and the request's id (X-Request-ID)."""
    # Imported here: tracker.services.auth records its logins through this module.
    from tracker.services.auth import client_address

    return {
        "address": client_address(request),
        "request_id": getattr(request, "request_id", "") or "",
    }


def audit_record(**details) -> AuditEntry:
    """Append one entry, in the caller's transaction (`audit_entry` says what it holds)."""
    entry = audit_entry(**details)
    entry.save()
    return entry


def audit_record_batch(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Append many entries (from `audit_entry`) in one INSERT, in the caller's transaction."""
    return AuditEntry.objects.bulk_create(entries)


def audit_entry(
    *,
    actor: User | None,
    action: AuditAction,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: int | None = None,
    target_label: str | None = None,
    changes: dict | None = None,
    note: str = "",
    address: str | None = None,
    request_id: str | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """One entry, unsaved.

    `actor` None is the system (a command, a background job) or an anonymous visitor (a
    failed login names the account tried in `target_label`). `target` is the object acted on;
    its type, id and name are copied, so the entry reads the same after it is renamed or
    deleted (a deleted object is named by `target_type`, `target_id` and `target_label`).
    `changes` is field → [old, new] (see `audit_diff`); sensitive fields keep no
    values."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if target is not None:
        target_type = target._meta.label_lower
        label = str(target) if target_label is None else target_label
        target_id = target.pk
    else:
        label = target_label or ""
    return AuditEntry(
        at=at or timezone.now(),
        actor=actor,
        actor_name=_actor_name(actor)[:200],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=label[:300],
        changes=_masked(changes),
        note=note[:500],
        address=(address or "")[:100],
        request_id=(request_id or "")[:64],
    )
