"""The unit tree. Paths are maintained here so descendants stay one prefix match away."""

from django.db import transaction
from django.db.models import F, ProtectedError, Value
from django.db.models.functions import Concat, Substr

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import Unit, UnitKind, User
from tracker.selectors import inspection_choices_changed
from tracker.services.audit import AuditAction, audit_diff, audit_record, audit_snapshot


@transaction.atomic
def unit_create(
    *, name: str, kind: UnitKind, parent: Unit | None = None, short_name: str = "",
    sort_order: int = 0, actor: User | None = None,
) -> Unit:
    """A new unit under `parent`. `actor` None is the system (demo data, commands)."""
    _ensure_may_edit(actor)
    # A unique temporary path satisfies the constraints until the id is known.
    unit = Unit.objects.create(
        name=name, kind=kind, parent=parent, short_name=short_name, sort_order=sort_order,
        path=f"/new-{name}/", depth=0 if parent is None else parent.depth + 1,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    Unit.objects.filter(pk=unit.pk).update(path=unit.path)
    audit_record(actor=actor, action=AuditAction.UNIT_CREATE, target=unit,
                 changes=audit_diff({}, audit_snapshot(unit, UNIT_EDITABLE_FIELDS)))
    return unit


@transaction.atomic
def unit_move(*, unit: Unit, new_parent: Unit | None) -> Unit:
    """Move a unit with its whole subtree: one UPDATE rewrites every descendant's path."""
    if new_parent is not None and new_parent.is_within(unit):
        raise InvalidInput("不能把单位移到它自己或其下级单位之下")
    old_path = unit.path
    new_path = f"{new_parent.path if new_parent else '/'}{unit.pk}/"
    depth_change = (0 if new_parent is None else new_parent.depth + 1) - unit.depth
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    # `unit` still holds its old path here: its subtree is the one to rewrite.
    Unit.objects.subtree_of(unit).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    unit.refresh_from_db()
    inspection_choices_changed()  # its tasks now count under another subtree
    return unit


UNIT_EDITABLE_FIELDS = ("name", "short_name", "kind", "sort_order", "parent")


@transaction.atomic
def unit_update(*, unit: Unit, actor: User | None = None, **changes) -> Unit:
    """Rename or re-order a unit; a new parent moves its whole subtree."""
    _ensure_may_edit(actor)
    unknown = set(changes) - set(UNIT_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"不能直接修改以下字段：{'、'.join(sorted(unknown))}")
    before = audit_snapshot(unit, changes)
    if "parent" in changes and changes["parent"] != unit.parent:
        unit = unit_move(unit=unit, new_parent=changes["parent"])
    plain = {k: v for k, v in changes.items() if k != "parent"}
    if plain:
        siblings = Unit.objects.filter(parent=unit.parent).exclude(pk=unit.pk)
        if "name" in plain and siblings.filter(name=plain["name"]).exists():
            raise InvalidInput("同一上级单位下已有同名单位", fields={"name": "名称重复"})
        Unit.objects.filter(pk=unit.pk).update(**plain)
        unit.refresh_from_db()
    if diff := audit_diff(before, audit_snapshot(unit, changes)):
        audit_record(actor=actor, action=AuditAction.UNIT_UPDATE, target=unit, changes=diff)
    return unit


ROBOT_FIELDS = ("wecom_webhook_url", "dingtalk_webhook_url", "dingtalk_secret")


def _ensure_may_edit(actor: User | None) -> None:
    if actor is not None and not access.may_edit_units(actor):
        raise ActionForbidden("只有系统管理员可以维护单位")


@transaction.atomic
def unit_set_robots(*, unit: Unit, actor: User, clear: bool = False, **values: str) -> Unit:
    """Set the unit's group robots (webhook addresses, DingTalk signing secret).

    They are write-only: a blank value keeps what is stored, `clear` empties all of them."""
    unknown = set(values) - set(ROBOT_FIELDS)
    if unknown:
        raise InvalidInput(f"不能直接修改以下字段：{'、'.join(sorted(unknown))}")
    _ensure_may_edit(actor)
    updates = dict.fromkeys(ROBOT_FIELDS, "") if clear else {}
    updates.update({field: value for field, value in values.items() if value})
    if updates:
        Unit.objects.filter(pk=unit.pk).update(**updates)
        unit.refresh_from_db()
        # Which robot settings changed, never their values (audit_record masks them).
        audit_record(actor=actor, action=AuditAction.UNIT_UPDATE, target=unit,
                     changes={field: ["", ""] for field in updates})
    return unit


@transaction.atomic
def unit_delete(*, unit: Unit, actor: User) -> None:
    """Delete a unit nothing refers to yet (a unit created by mistake)."""
    _ensure_may_edit(actor)
    pk, label = unit.pk, str(unit)
    try:
        with transaction.atomic():
            unit.delete()
    except ProtectedError as error:
        raise InvalidInput("该单位已有下级单位、人员、任务或巡视巡察，不能删除") from error
    audit_record(actor=actor, action=AuditAction.UNIT_DELETE, target_type="tracker.unit",
                 target_id=pk, target_label=label)
