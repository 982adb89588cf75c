"""The site's authentication backend: Django's, with the user's units read in the same query.

Every page and API call of an officer or a supervisor asks `tracker.access.scope_unit` for the
unit bounding what they see (`user.unit`, or `user.supervision_root`): fetched with the user,
that is one statement less on every request (docs/performance.md).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# The user's foreign keys every scoped request reads (tracker.access.scope_unit).
USER_UNITS = ("unit", "supervision_root")


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        user = (
            get_user_model()._default_manager.select_related(*USER_UNITS)
            .filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
