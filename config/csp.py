"""Content-Security-Policy on every response (pages, API, admin, errors, static files served by
the app), set by one middleware: Django 5.2 has none built in.

Everything a page loads comes from the site itself (no CDN on an intranet), so the policy is
``default-src 'self'``. Scripts: only files from the site, never inline (``<script>`` blocks,
``onclick=`` attributes) nor ``eval``, so injected markup cannot run. Styles allow inline
``<style>`` and ``style=`` attributes: the server-side SVG charts (pygal) carry their own
stylesheet and progress bars set their width in a style attribute; with images, fonts and
connections limited to the site, injected CSS has nowhere outside to send anything. No page
may be framed (``frame-ancestors 'none'``, as X-Frame-Options DENY), forms post only to the
site, and ``<base>`` cannot re-point relative links.

A view whose third-party page needs more (ReDoc builds its search index in a web worker from a
``blob:`` URL) gets additions by URL name in ``EXTRA_BY_URL_NAME``; nothing else differs.
"""

HEADER = "Content-Security-Policy"

POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    # data: for the blank favicon (base.html) and Bootstrap's and Swagger UI's inline SVG icons.
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

# Additions for the API documentation pages (drf-spectacular with its sidecar files).
EXTRA_BY_URL_NAME: dict[str, dict[str, tuple[str, ...]]] = {
    "redoc": {"worker-src": ("'self'", "blob:")},
}


def build_policy(extra: dict[str, tuple[str, ...]] | None = None) -> str:
    directives = {name: list(sources) for name, sources in POLICY.items()}
    for name, sources in (extra or {}).items():
        merged = directives.setdefault(name, [])
        merged.extend(source for source in sources if source not in merged)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


_DEFAULT = build_policy()
_BY_URL_NAME = {name: build_policy(extra) for name, extra in EXTRA_BY_URL_NAME.items()}


def policy_for(url_name: str | None) -> str:
    return _BY_URL_NAME.get(url_name or "", _DEFAULT)


class ContentSecurityPolicyMiddleware:
    """Adds the policy unless the response already carries one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response:
            match = getattr(request, "resolver_match", None)
            response[HEADER] = policy_for(match.url_name if match else None)
        return response
