"""A page-number paginator for long lists that counts only as far as it shows.

Django's Paginator counts the whole list on every page view; on a ledger of a million tasks
that count costs more than the page itself. `CappedPaginator` counts at most up to a few pages
past the one asked for (`SELECT COUNT(*) FROM (… LIMIT n)`): when the list ends within that
window the count is exact and the page says so; otherwise it knows only that there are more,
and the page says "至少" (at least). Page numbers and the previous/next links stay correct
either way: a page exists exactly when a row exists at its offset.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

PAGES_AHEAD = 4


def asked_page(number) -> int:
    """The page number a request asked for (1 when it asked for none or nonsense); the page
    shown may be an earlier one, when the list ends before it."""
    try:
        return max(1, int(number))
    except (TypeError, ValueError):
        return 1


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, number, pages_ahead: int | None = None,
                 counted_in=None):
        """`counted_in`: the same rows in a cheaper query (without the columns and joins
        object_list shows them with), counted instead of object_list; either may be a
        queryset or a tracker.statements.ReusedStatement."""
        super().__init__(object_list, per_page)
        self.counted_in = object_list if counted_in is None else counted_in
        if pages_ahead is None:
            pages_ahead = PAGES_AHEAD
        # One row past the window tells "more than this" from "exactly this".
        self.limit = (asked_page(number) + pages_ahead) * per_page + 1

    @cached_property
    def counted(self) -> int:
        # Only the ids in the counted subquery: no computed columns.
        return self.counted_in.order_by().values("pk")[: self.limit].count()

    @property
    def exact(self) -> bool:
        """Whether `count` is the whole list's length (else a lower bound)."""
        return self.counted < self.limit

    @cached_property
    def count(self) -> int:
        """The list's length if it ends within the window, else the rows counted (the last
        page then holds the one row past the window, so "next" is offered up to there)."""
        return self.counted
