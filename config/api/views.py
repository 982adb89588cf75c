"""API pages served by the project itself."""

from drf_spectacular.views import SpectacularRedocView


class LocalRedocView(SpectacularRedocView):
    """ReDoc without the stock template's web fonts: nothing is loaded from outside."""

    template_name = "api/redoc.html"
