"""Scoring schemes (考评权重): administrators set them; every change is audited.

The API has no write face for schemes: the admin (tracker.admin.ScoringSchemeAdmin) calls
these services, as would a command.
"""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import WEIGHT_FIELDS, AuditAction, ScoringScheme, User
from tracker.services.audit import audit_diff, audit_record, audit_snapshot

SCHEME_FIELDS = ("name", "effective_from", *WEIGHT_FIELDS, "note")
WEIGHT_MAX = Decimal("1000")


def _validate(values: dict) -> None:
    errors = {}
    if not (values.get("name") or "").strip():
        errors["name"] = "请填写方案名称"
    if values.get("effective_from") is None:
        errors["effective_from"] = "请填写生效日期"
    for name in WEIGHT_FIELDS:
        value = values.get(name)
        label = ScoringScheme._meta.get_field(name).verbose_name
        if value is None:
            errors[name] = f"请填写{label}"
        elif name == "base_score" and value <= 0:
            errors[name] = "基础分须大于0"
        elif value < 0:
            errors[name] = f"{label}不能为负数"
        elif value > WEIGHT_MAX:
            errors[name] = f"{label}不能超过{WEIGHT_MAX}"
    if errors:
        raise InvalidInput("考评方案填写有误：" + "；".join(errors.values()), fields=errors)


def _ensure_admin(actor: User) -> None:
    if not access.may_set_scoring_weights(actor):
        raise ActionForbidden("只有系统管理员可以设置考评方案")


@transaction.atomic
def scoring_scheme_save(
    *, actor: User, now: dt.datetime, scheme: ScoringScheme | None = None, **values
) -> ScoringScheme:
    """Create a scheme (scheme None) or change one. Past periods keep the scheme that was in
    force at their end: a new scheme should take effect from a day still to come, but an
    administrator correcting a mistake may date it back; the audit log records both."""
    _ensure_admin(actor)
    values = {k: v for k, v in values.items() if k in SCHEME_FIELDS}
    if scheme is not None:
        scheme = ScoringScheme.objects.select_for_update().get(pk=scheme.pk)
        merged = {f: getattr(scheme, f) for f in SCHEME_FIELDS} | values
    else:
        merged = {"note": ""} | values
    _validate(merged)
    clash = ScoringScheme.objects.filter(effective_from=merged["effective_from"])
    if scheme is not None:
        clash = clash.exclude(pk=scheme.pk)
    if clash.exists():
        raise InvalidInput(
            f"{merged['effective_from']:%Y年%m月%d日}已有生效的考评方案",
            fields={"effective_from": "该日期已有方案，请修改原方案或另选日期"},
        )
    before = audit_snapshot(scheme, SCHEME_FIELDS) if scheme is not None else {}
    if scheme is None:
        scheme = ScoringScheme(created_by=actor)
    for name, value in merged.items():
        setattr(scheme, name, value)
    scheme.name = scheme.name.strip()
    scheme.updated_at = now
    try:
        with transaction.atomic():
            scheme.save()
    except IntegrityError as error:
        raise InvalidInput("考评方案与已有方案冲突，请刷新后重试") from error
    audit_record(
        actor=actor,
        action=AuditAction.SCORING_SCHEME_UPDATE if before else AuditAction.SCORING_SCHEME_CREATE,
        target=scheme, changes=audit_diff(before, audit_snapshot(scheme, SCHEME_FIELDS)), at=now,
    )
    return scheme


@transaction.atomic
def scoring_scheme_delete(*, actor: User, scheme: ScoringScheme, now: dt.datetime) -> None:
    _ensure_admin(actor)
    scheme = ScoringScheme.objects.select_for_update().get(pk=scheme.pk)
    audit_record(actor=actor, action=AuditAction.SCORING_SCHEME_DELETE, target=scheme,
                 changes=audit_diff(audit_snapshot(scheme, SCHEME_FIELDS), {}), at=now)
    scheme.delete()
