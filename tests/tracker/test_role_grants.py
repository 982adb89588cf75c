"""A role's Django flags and group (tracker.access.role_grants) are the one answer the user
services give an account, at creation and at every change of role."""

import pytest

from tracker import access
from tracker.models import Role
from tracker.services import users as user_services

pytestmark = pytest.mark.django_db


def _held(user) -> tuple[bool, bool, bool]:
    user.refresh_from_db()
    in_group = user.groups.filter(name=user_services.SUPERVISOR_GROUP).exists()
    return user.is_staff, user.is_superuser, in_group


def test_each_role_grants_its_flags_and_group():
    assert access.role_grants(Role.OFFICER) == access.RoleGrants(False, False, False)
    assert access.role_grants(Role.SUPERVISOR) == access.RoleGrants(True, False, True)
    assert access.role_grants(Role.ADMIN) == access.RoleGrants(True, True, False)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPERVISOR, Role.ADMIN])
def test_a_new_account_holds_what_its_role_grants(role, bureau):
    user = user_services.user_create(username=f"new-{role}", password="Zhenggai-2026!x",
                                     role=role, unit=bureau)
    assert _held(user) == tuple(vars(access.role_grants(role)).values())


def test_a_changed_role_takes_and_gives_back_the_flags_and_group(root_admin, alice):
    for role in (Role.SUPERVISOR, Role.ADMIN, Role.OFFICER, Role.SUPERVISOR):
        user_services.user_update(user=alice, actor=root_admin, role=role)
        assert _held(alice) == tuple(vars(access.role_grants(role)).values())
    user_services.user_update(user=alice, actor=root_admin, is_active=False)
    assert _held(alice) == (True, False, True)  # kept while inactive: the predicates say no
    assert not access.is_supervisor_or_admin(alice)
