"""Sets the device cookie that tracker.services.auth.login_authenticate asks for after a
successful login, on whichever face it happened (pages, admin, API)."""

from django.conf import settings

from tracker.services.auth import DEVICE_COOKIE


class LoginDeviceCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        value = getattr(request, "tracker_device_cookie", None)
        if value is not None:
            response.set_cookie(
                DEVICE_COOKIE, value, max_age=settings.LOGIN_DEVICE_COOKIE_MAX_AGE_SECONDS,
                httponly=True, secure=settings.SESSION_COOKIE_SECURE, samesite="Lax",
            )
        return response
