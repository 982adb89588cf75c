"""The one permission layer of the API.

Every request must come from an authenticated, active user; then the view's rule for the action
decides. A view declares `rules` (action → rule on the user) and `object_rules` (action → rule
on the user and the object); an action a view does not list is refused: deny by default.

Which objects a user may *see* is not decided here but by each view's get_queryset (scoped by
tracker.access / tracker.selectors), so an object out of scope is a 404 and its existence does
not leak; these rules decide what a user who sees an object may *do* with it (403 otherwise).
The services check the same tracker.access rules again, so the admin and scripts are held to
them too.
"""

from collections.abc import Callable

from rest_framework.permissions import BasePermission

from tracker import access

UserRule = Callable[..., bool]


def anyone_signed_in(user) -> bool:
    return True


supervisor_or_admin = access.is_supervisor_or_admin
admin_only = access.sees_everything


def _action(request, view) -> str:
    return getattr(view, "action", None) or request.method.lower()


class TrackerPermission(BasePermission):
    message = "您没有执行该操作的权限"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        rules: dict[str, UserRule] | None = getattr(view, "rules", None)
        if rules is None:
            return False
        if request.method == "OPTIONS":
            return True
        rule = rules.get(_action(request, view))
        return bool(rule and rule(user))

    def has_object_permission(self, request, view, obj) -> bool:
        object_rules: dict[str, UserRule] = getattr(view, "object_rules", {})
        rule = object_rules.get(_action(request, view))
        return True if rule is None else bool(rule(request.user, obj))
