"""Page numbers where a list is scoped small; a cursor for the task list, which can be large
(a deep OFFSET on a million rows costs tens of milliseconds per page, a keyset does not)."""

from django.conf import settings
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


class TaskCursorPagination(pagination.CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    ordering = ("-id",)
