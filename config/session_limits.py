"""Session limits for signed-in people (等保: 会话超时): an idle timeout and an absolute
lifetime, both from settings. API clients with tokens are not affected (no session).

A session past either limit is logged out before the view runs; the page then sends the person
to the login page with the reason, an API call answers as for anyone not signed in.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

STARTED = "_tracker_session_started"
SEEN = "_tracker_session_seen"
# The last-seen stamp is written at most this often, so that reading pages does not rewrite the
# session row on every request.
SEEN_RESOLUTION_SECONDS = 60


def start_session_clocks(sender, request, user, **kwargs) -> None:
    """On login (user_logged_in): both clocks start with the session itself, so the first page
    after signing in does not have to write the session again."""
    if hasattr(request, "session"):
        now = time.time()
        request.session[STARTED] = now
        request.session[SEEN] = now


def session_expiry_reason(session, now: float) -> str | None:
    """Why this session must end now, or None. Starts the clocks on a fresh session."""
    started, seen = session.get(STARTED), session.get(SEEN)
    if started is None or seen is None:  # a session from before these limits existed
        session[STARTED] = session.get(STARTED) or now
        session[SEEN] = now
        return None
    lifetime = settings.SESSION_ABSOLUTE_LIFETIME_SECONDS
    idle = settings.SESSION_IDLE_TIMEOUT_SECONDS
    if now - started > lifetime:
        return f"登录已超过{lifetime // 3600}小时，请重新登录"
    if now - seen > idle:
        return f"已超过{idle // 60}分钟未操作，已自动退出，请重新登录"
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now
    return None


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            reason = session_expiry_reason(request.session, time.time())
            if reason is not None:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.warning(request, reason)
        return self.get_response(request)
