"""The bench's URLconf: the project's own routes plus one for the list floors.

The floor of a list is a bare Django view running the same single query. It is served at
FLOOR_PATH through the same request stack as the project's pages and API (session, login,
security and CSP middleware), as a bare view deployed beside them would be, so that the ratio
measures what the list adds on top of its query: DRF, serializers, templates. Only
`manage.py bench` installs this URLconf, for the length of its run.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

FLOOR_PATH = "/__bench__/floor/"


class _Floor:
    """The floor view the bench is measuring now (set before each request)."""

    view = None


current_floor = _Floor()


@login_required
def floor(request) -> HttpResponse:
    return current_floor.view(request)


urlpatterns = [*project_urlpatterns, path(FLOOR_PATH.strip("/") + "/", floor)]
