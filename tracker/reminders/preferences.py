"""Per-person notification preferences: the one reader and the one writer.

No row means the defaults (every event, e-mail on, immediate). The sender reads them in bulk
for a batch of recipients (`preferences_for`), so a message batch costs one query more."""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from tracker.errors import InvalidInput
from tracker.models import DeliveryMode, EventType, NotificationPreference, User

EDITABLE = (
    *(f"on_{event}" for event in EventType.values),
    "by_email",
    "mode",
)


def preferences_for(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    """{user id: preference} for every id given, the defaults (unsaved) where none is stored."""
    user_ids = list(user_ids)
    stored = {
        pref.user_id: pref
        for pref in NotificationPreference.objects.filter(user_id__in=user_ids)
    }
    return {uid: stored.get(uid) or NotificationPreference(user_id=uid) for uid in user_ids}


def preference_of(user: User) -> NotificationPreference:
    return preferences_for([user.pk])[user.pk]


@transaction.atomic
def notification_preferences_update(
    *, user: User, now: dt.datetime | None = None, **values
) -> NotificationPreference:
    """Store the user's choices (only the fields given change)."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"不能修改以下设置：{'、'.join(sorted(unknown))}")
    if "mode" in values and values["mode"] not in DeliveryMode.values:
        raise InvalidInput("发送方式只能是“即时”或“每日汇总”", fields={"mode": "无效的选项"})
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    for name, value in values.items():
        setattr(pref, name, value)
    pref.updated_at = now or timezone.now()
    pref.save()
    return pref
