"""Reads of the reports app other than the rollup aggregates (those are reports.rollups)."""

from django.db.models import Q, QuerySet

from reports.models import RollupSnapshot
from tracker import access
from tracker.models import Role, Unit, User


def snapshot_list(*, user: User) -> QuerySet[RollupSnapshot]:
    """Snapshots the user may read: their own, and for a supervisor every snapshot whose scope
    lies within theirs; an administrator reads all."""
    qs = RollupSnapshot.objects.select_related("created_by")
    if access.sees_everything(user):
        return qs
    own = Q(created_by=user)
    scope = access.scope_unit(user)
    if user.role == Role.SUPERVISOR and scope is not None:
        return qs.filter(
            own | Q(scope_unit__in=Unit.objects.filter(path__startswith=scope.path))
        )
    return qs.filter(own)
