from django.contrib.auth.models import Group, Permission
from django.db import transaction

from tracker.models import Role, Unit, User

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
) -> User:
    user = User(
        username=username,
        role=role,
        unit=unit,
        full_name=full_name,
        email=email,
        covers_subunits=covers_subunits,
        supervision_root=supervision_root,
        is_staff=role in (Role.SUPERVISOR, Role.ADMIN),
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    if role == Role.SUPERVISOR:
        user.groups.add(supervisor_group())
    return user
