from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import Role, Unit, User
from tracker.services.audit import AuditAction, audit_diff, audit_record, audit_snapshot
from tracker.services.auth import api_tokens_revoke_all

SUPERVISOR_GROUP = "督导人员"
# What supervisors may do in the admin; every queryset there is still scoped to their units.
SUPERVISOR_PERMISSIONS = [
    "view_unit", "view_user",
    "view_inspection", "add_inspection", "change_inspection",
    "view_problem", "add_problem", "change_problem",
    "view_task", "add_task", "change_task",
    "view_taskevent", "view_progressreport", "view_evidence", "view_deadlineextension",
]


def supervisor_group() -> Group:
    """The admin permissions of the supervisor role, created or brought up to date."""
    group, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="tracker", codename__in=SUPERVISOR_PERMISSIONS
        )
    )
    return group


def _set_role_flags(user: User) -> None:
    """The account's Django flags as its role grants them (tracker.access.role_grants)."""
    grants = access.role_grants(user.role)
    user.is_staff, user.is_superuser = grants.staff, grants.superuser


def _set_role_group(user: User, *, created: bool = False) -> None:
    """The supervisors' group, joined or left as the (saved) account's role grants it (a new
    account is in no group to leave)."""
    if access.role_grants(user.role).supervisor_group:
        user.groups.add(supervisor_group())
    elif not created:
        user.groups.remove(supervisor_group())


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: Role,
    unit: Unit | None,
    full_name: str = "",
    email: str = "",
    covers_subunits: bool = False,
    supervision_root: Unit | None = None,
    actor: User | None = None,
) -> User:
    """A new user; `actor` is the administrator who creates it (None: a command)."""
    user = User(
        username=username,
        role=role,
        unit=unit,
        full_name=full_name,
        email=email,
        covers_subunits=covers_subunits,
        supervision_root=supervision_root,
    )
    _set_role_flags(user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    _set_role_group(user, created=True)
    audit_record(actor=actor, action=AuditAction.USER_CREATE, target=user,
                 changes=audit_diff({}, audit_snapshot(user, USER_EDITABLE_FIELDS)))
    return user


USER_EDITABLE_FIELDS = (
    "username", "full_name", "email", "phone", "unit", "role", "covers_subunits",
    "supervision_root", "is_active",
)


@transaction.atomic
def user_update(*, user: User, actor: User, **changes) -> User:
    """An administrator edits a user. The role decides admin access (staff, superuser, the
    supervisor group), exactly as at creation; passwords change only through the password
    forms."""
    if not access.may_manage_users(actor):
        raise ActionForbidden("只有系统管理员可以管理用户")
    unknown = set(changes) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"不能直接修改以下字段：{'、'.join(sorted(unknown))}")
    before = audit_snapshot(user, changes)
    for field, value in changes.items():
        setattr(user, field, value)
    _set_role_flags(user)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise InvalidInput("；".join(error.messages)) from error
    user.save()
    _set_role_group(user)
    if diff := audit_diff(before, audit_snapshot(user, changes)):
        action = AuditAction.USER_ROLE_CHANGE if "role" in diff else AuditAction.USER_UPDATE
        audit_record(actor=actor, action=action, target=user, changes=diff)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str | None, actor: User | None) -> User:
    """The one place a password changes (the pages' 修改密码, the admin's password form, the
    `changepassword` command): the new password is set (None: password sign-in disabled) and
    every API token of the user is revoked, so scripts must sign in again.

    ``actor`` is the user themself or an administrator; None is the operator at the server's
    command line. The forms have validated the password already."""
    if actor is not None and actor.pk != user.pk and not access.may_manage_users(actor):
        raise ActionForbidden("只有系统管理员可以修改他人的密码")
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    api_tokens_revoke_all(user=user)
    audit_record(actor=actor, action=AuditAction.PASSWORD_CHANGE, target=user)
    return user
