"""The site's URLs plus one view that fails, so the browser can see the real 500 page."""

from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def fail(request):
    raise RuntimeError("a deliberate failure for the 500 page")


urlpatterns = [*site_urlpatterns, path("fail-for-test/", fail)]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
