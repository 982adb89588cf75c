"""The API's ordering filter. The resources' FilterSets live in tracker.filters, shared with
the pages."""

from rest_framework.filters import OrderingFilter


class AliasOrderingFilter(OrderingFilter):
    """OrderingFilter whose public names may map to annotations (`ordering_aliases`), and
    which always ends with the primary key so that the order, and a cursor, is stable."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not ordering:
            return ordering
        aliases = getattr(view, "ordering_aliases", {})
        result = []
        for term in ordering:
            desc = term.startswith("-")
            name = aliases.get(term.lstrip("-"), term.lstrip("-"))
            result.append(f"-{name}" if desc else name)
        if result[-1].lstrip("-") not in ("id", "pk"):
            result.append("-id" if result[0].startswith("-") else "id")
        return result

    def get_valid_fields(self, queryset, view, context=None):
        fields = super().get_valid_fields(queryset, view, context or {})
        aliases = getattr(view, "ordering_aliases", {})
        return fields + [(alias, alias) for alias in aliases]
