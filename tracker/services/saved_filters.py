"""常用筛选: a person's own named task-list queries. Only the query string is kept; applying
one runs it through the task list's form and the reader's scope like any other query, so a
saved filter can never show more than its owner may see."""

from urllib.parse import urlencode

from django.db import transaction
from django.http import QueryDict

from tracker.errors import InvalidInput
from tracker.models import SavedFilter, User

MAX_PER_USER = 50
# What a saved query keeps: the task list's filters, not its page number.
KEPT_PARAMETERS = ("q", "inspection", "status", "is_key", "priority", "unit", "lead_unit")


def _normalized(query: str) -> str:
    parsed = QueryDict(query)
    return urlencode([(key, value) for key in KEPT_PARAMETERS
                      for value in parsed.getlist(key) if value.strip()])


@transaction.atomic
def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Save `query` under `name` for `user`; a name they already use is overwritten."""
    name = name.strip()
    if not name:
        raise InvalidInput("请给常用筛选起个名称", fields={"name": "不能为空"})
    if len(name) > 50:
        raise InvalidInput("名称不能超过50个字", fields={"name": "不能超过50个字"})
    query = _normalized(query)
    if len(query) > 1000:
        raise InvalidInput("筛选条件过长，无法保存")
    existing = SavedFilter.objects.select_for_update().filter(user=user, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedFilter.objects.filter(user=user).count() >= MAX_PER_USER:
        raise InvalidInput(f"常用筛选最多保存{MAX_PER_USER}个，请先删除不用的")
    return SavedFilter.objects.create(user=user, name=name, query=query)


@transaction.atomic
def saved_filter_delete(*, user: User, pk: int) -> bool:
    """Delete one of `user`'s own saved filters; False when they have none with that id."""
    deleted, _ = SavedFilter.objects.filter(user=user, pk=pk).delete()
    return bool(deleted)
