from django.db import transaction

from tracker.models import Role, Unit, User


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
    return user
