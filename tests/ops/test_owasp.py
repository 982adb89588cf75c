"""Issue 14: an OWASP-style pass over every page and endpoint, kept in the suite.

The URLs are not listed here: the URL resolver is walked, so a new page or endpoint is covered
the day it is added (a page whose id this file cannot fill in fails, naming it). The admin is
walked through its registry (every model's list, add and change pages). One user per role:
officer ``alice``, supervisor ``chief``, administrator ``root``.

- every HTML form that posts carries Django's CSRF token, and no page runs inline script
  (``<script>`` without ``src``, ``on…=`` attributes) the Content-Security-Policy would block;
- a POST without the CSRF token, from a browser signed in with a session, is refused (403) on
  every URL pattern, pages, admin and API alike;
- every response (pages, API, admin, errors, static files) carries the security headers;
- the session cookie is HttpOnly, and under the production settings the session and CSRF
  cookies are Secure with SameSite;
- the login pages (the site's and the admin's) and logout never redirect off the site, whatever
  ``next`` says.
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from config.csp import HEADER as CSP_HEADER
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    ReportImportFactory,
    SourceReportFactory,
)
from tests.tracker.factories import (
    ApiTokenFactory,
    DeadlineExtensionFactory,
    EvidenceFactory,
    LedgerJobFactory,
    NotificationFactory,
    SavedFilterFactory,
    ScoringSchemeFactory,
    SupervisionNoticeItemFactory,
    TaskFactory,
    TaskRecheckFactory,
)
from tracker.models import TaskStatus
from tracker.services.auth import api_token_issue

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

EVIL = ["//evil.example/", "https://evil.example/", "/\\evil.example/", "\\\\evil.example/",
        "javascript:alert(1)", "http:evil.example", "https:/\\evil.example"]
PASSWORD = "demo-pass-123"  # UserFactory's


# --- Walking the URLs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # with namespaces, e.g. "web:task_detail"
    route: str  # as written, e.g. "tasks/<int:pk>/"
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")


def _walk(resolver, namespaces=(), prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            spaces = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern, spaces, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            kwargs = tuple(getattr(pattern.pattern, "converters", None) or {}) or tuple(
                pattern.pattern.regex.groupindex)
            name = ":".join((*namespaces, pattern.name or ""))
            yield Route(name=name, route=prefix + str(pattern.pattern), kwargs=kwargs)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver()))


SAMPLE_KWARGS = {"format": "json", "app_label": "tracker", "content_type_id": "1",
                 "object_id": "1", "pk": "1", "id": "1", "task_pk": "1"}
# Admin patterns without a name: its catch-all (a redirect or 404 for anything unknown).
UNNAMED_OK = {"admin:"}


def _sample_path(route: Route) -> str | None:
    if not route.name or route.name.endswith(":"):
        return None
    return reverse(route.name, kwargs={name: SAMPLE_KWARGS[name] for name in route.kwargs})


# --- Reading pages ---------------------------------------------------------------------------


class PageReader(HTMLParser):
    """The forms (method, CSRF field) and the script a page would run."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self._form: dict | None = None
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [f"<{tag} {name}=…>" for name, _ in attrs
                          if name.lower().startswith("on")]
        if any((value or "").strip().lower().startswith("javascript:")
               for name, value in attrs if name in ("href", "src", "action")):
            self.handlers.append(f"<{tag} javascript: URL>")
        if tag == "form":
            self._form = {"method": (attributes.get("method") or "get").lower(),
                          "action": attributes.get("action"), "csrf": False}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and (
                attributes.get("name") == "csrfmiddlewaretoken" and attributes.get("value")):
            self._form["csrf"] = True
        elif tag == "script":
            self._script = {"src": attributes.get("src"), "body": "",
                            "type": attributes.get("type") or ""}

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "script" and self._script is not None:
            data_only = self._script["type"] in ("application/json", "application/ld+json")
            if not self._script["src"] and self._script["body"].strip() and not data_only:
                self.inline_scripts.append(self._script["body"].strip()[:80])
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


# --- The data every page needs ---------------------------------------------------------------


@pytest.fixture
def world(alice, chief, root_admin, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    report = SourceReportFactory()
    notice_item = SupervisionNoticeItemFactory(task=task, notice__issued_by=chief)
    return {
        # Route prefix up to its id → the object a role can open there.
        "tasks/<int:pk>/": task,
        "extensions/<int:pk>/": DeadlineExtensionFactory(task=task, requested_by=alice),
        "evidence/<int:pk>/": EvidenceFactory(task=task, uploaded_by=alice),
        "inbox/<int:pk>/": NotificationFactory(recipient_user=alice),
        "tasks/saved-filters/<int:pk>/": SavedFilterFactory(user=alice),
        "ledger/jobs/<int:pk>/": LedgerJobFactory(user=alice, inspection=task.inspection),
        "reports/documents/<int:pk>/": report,
        "reports/figures/<int:pk>/": ExtractedFigureFactory(report=report),
        "reports/items/<int:pk>/": ExtractedItemFactory(report=report),
        "reports/documents/imports/<int:pk>/": ReportImportFactory(user=chief),
        "settings/api-tokens/<int:pk>/": ApiTokenFactory(user=alice),
        "notices/<int:pk>/": notice_item.notice,
        "(scoring scheme: its admin change page)": ScoringSchemeFactory(),
        "rechecks/<int:pk>/": TaskRecheckFactory(task__lead_unit=bureau, state="due"),
        "users": {"officer": alice, "supervisor": chief, "admin": root_admin},
    }


def page_paths(world) -> list[str]:
    """Every page URL (not API, not admin) with real ids filled in."""
    paths, unknown = [], []
    for route in all_routes():
        if route.is_api or route.is_admin or not route.name:
            continue
        if not route.kwargs:
            paths.append(reverse(route.name))
            continue
        prefix = next((key for key in world if route.route.startswith(key)), None)
        if prefix is None or route.kwargs not in (("pk",), ("pk", "task_pk")):
            unknown.append(route.route)
            continue
        kwargs = {"pk": world[prefix].pk}
        if "task_pk" in route.kwargs:  # a part of a notice: the notice's task
            kwargs["task_pk"] = world["tasks/<int:pk>/"].pk
        paths.append(reverse(route.name, kwargs=kwargs))
    assert not unknown, f"tests/ops/test_owasp.py: add an object for these pages: {unknown}"
    return paths


def admin_paths() -> list[str]:
    paths = [reverse("admin:index"), reverse("admin:password_change")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        paths += [reverse("admin:{}_{}_changelist".format(*info)),
                  reverse("admin:{}_{}_add".format(*info))]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return paths


def signed_in(user, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


# --- Forms and scripts -----------------------------------------------------------------------


def test_every_posting_form_has_a_csrf_token_and_no_page_runs_inline_script(world):
    pages = page_paths(world)
    assert len(pages) > 30  # the walk found the pages
    checked_forms, problems = 0, []
    visits = [(role, path) for role in ("officer", "supervisor", "admin") for path in pages]
    visits += [("admin", path) for path in admin_paths()]
    visits += [("anonymous", reverse("web:login")), ("anonymous", reverse("admin:login")),
               ("admin", reverse("swagger-ui")), ("admin", reverse("redoc"))]
    clients = {role: signed_in(user) for role, user in world["users"].items()}
    clients["anonymous"] = Client()
    rendered = 0
    for role, path in visits:
        response = clients[role].get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        rendered += 1
        page = read_page(response.content.decode())
        for form in page.forms:
            if form["method"] == "post":
                checked_forms += 1
                if not form["csrf"]:
                    problems.append(f"{role} {path}: form action={form['action']!r} has no token")
        problems += [f"{role} {path}: inline script {body!r}" for body in page.inline_scripts]
        problems += [f"{role} {path}: {handler}" for handler in page.handlers]
    assert not problems, "\n".join(problems)
    assert rendered > 80
    assert checked_forms > 50  # task page actions, review, ledger, admin forms…


def test_the_api_docs_start_from_files_the_policy_allows(world):
    client = signed_in(world["users"]["admin"])
    swagger = client.get(reverse("swagger-ui"))
    script = re.findall(r'<script src="([^"]+)"', swagger.content.decode())
    # Swagger UI's start-up code is its own response (no inline script), and it runs.
    start = [src for src in script if src.startswith(reverse("swagger-ui"))]
    assert len(start) == 1
    code = client.get(start[0])
    assert code.status_code == 200
    assert "SwaggerUIBundle" in code.content.decode()
    redoc = client.get(reverse("redoc"))
    assert '<redoc spec-url="/api/schema/"' in redoc.content.decode()
    assert "worker-src 'self' blob:" in redoc[CSP_HEADER]
    assert "blob:" not in swagger[CSP_HEADER]


# --- CSRF ------------------------------------------------------------------------------------

# POSTs that are not refused for a missing token, and why.
CSRF_NOT_NEEDED = {
    # Token login: answers API clients without a session (DRF's ObtainAuthToken, no cookie).
    "api-token",
}


def test_a_post_without_the_csrf_token_is_refused_everywhere(world):
    client = signed_in(world["users"]["admin"], enforce_csrf=True)
    accepted, unreversible, posted = [], [], 0
    for route in all_routes():
        try:
            path = _sample_path(route)
        except (NoReverseMatch, KeyError) as error:  # a new kind of URL argument
            unreversible.append(f"{route.name} {route.route}: {error}")
            continue
        if path is None:
            if route.name not in UNNAMED_OK:
                unreversible.append(f"unnamed {route.route}")
            continue
        posted += 1
        response = client.post(path, {"title": "x"})
        if response.status_code != 403 and route.name not in CSRF_NOT_NEEDED:
            accepted.append(f"{path} ({route.name}) → {response.status_code}")
    assert not unreversible, unreversible
    assert not accepted, "\n".join(accepted)
    assert posted > 200  # pages, API and admin


def test_api_requests_without_a_session_are_not_csrf_checked_but_need_a_token(world):
    """The other side of the rule: API clients with a token (no cookie) are not browsers, so
    nothing to forge; without any credentials the answer is 401, not a CSRF 403."""
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/api/v1/tasks/", {}).status_code == 401
    _token, key = api_token_issue(user=world["users"]["admin"])
    with_token = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")
    assert with_token.post("/api/v1/tasks/", {}).status_code == 400  # validated, not refused


# --- Headers ---------------------------------------------------------------------------------


def assert_security_headers(response, where: str) -> None:
    csp = response.get(CSP_HEADER, "")
    directives = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, _, sources = part.partition(" ")
        directives[name] = sources
    assert directives.get("default-src") == "'self'", (where, csp)
    assert directives.get("script-src") == "'self'", (where, csp)
    assert directives.get("object-src") == "'none'", (where, csp)
    assert directives.get("frame-ancestors") == "'none'", (where, csp)
    if not where.split(" ")[2].startswith("/static/"):
        # Static files are served before Django's clickjacking middleware; frame-ancestors
        # above covers them.
        assert response.get("X-Frame-Options") == "DENY", where
    assert response.get("X-Content-Type-Options") == "nosniff", where
    assert response.get("Referrer-Policy") == "same-origin", where
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin", where


def test_every_response_carries_the_security_headers(world):
    client = signed_in(world["users"]["admin"])
    anonymous = Client()
    paths = page_paths(world) + admin_paths()[:6]
    for route in all_routes():
        if route.is_api and route.name:
            paths.append(_sample_path(route))
    paths += ["/static/web/css/site.css", "/no-such-page/", "/api/v1/no-such-endpoint/"]
    seen = set()
    for path in paths:
        for who, each in (("admin", client), ("anonymous", anonymous)):
            response = each.get(path)
            seen.add(response.status_code)
            assert_security_headers(response, f"{who} GET {path} → {response.status_code}")
    # Answers of every kind were checked: pages, redirects, refusals, missing, files.
    assert {200, 302, 401, 404, 405} <= seen


# --- Cookies ---------------------------------------------------------------------------------


def _production_settings(*names: str) -> dict:
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "tracker.example.gov.cn",
           "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


COOKIE_SETTINGS = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                   "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE")


def _login(client: Client, path: str, username: str, next_url: str | None = None):
    page = client.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    query = f"?{urlencode({'next': next_url})}" if next_url is not None else ""
    return client.post(path + query, {"username": username, "password": PASSWORD,
                                      "csrfmiddlewaretoken": token.group(1)})


@pytest.mark.parametrize("production", [False, True], ids=["test-settings", "production"])
def test_session_and_csrf_cookies_have_the_right_flags(settings, alice, production):
    if production:
        values = _production_settings(*COOKIE_SETTINGS)
        assert values["SESSION_COOKIE_SECURE"] is True
        assert values["CSRF_COOKIE_SECURE"] is True
        for name, value in values.items():
            setattr(settings, name, value)
    client = Client(enforce_csrf_checks=True)
    response = _login(client, reverse("web:login"), "alice")
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    csrf = client.cookies["csrftoken"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert csrf["samesite"] == "Lax"
    assert bool(session["secure"]) is production
    assert bool(csrf["secure"]) is production
    device = response.cookies["tracker_device"]
    assert device["httponly"] is True
    assert bool(device["secure"]) is production


# --- Open redirects --------------------------------------------------------------------------


def _stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/")
            and not location.startswith(("//", "/\\")) and "\\" not in location)


@pytest.mark.parametrize("next_url", EVIL)
@pytest.mark.parametrize("login_path", ["web:login", "admin:login"])
def test_login_never_redirects_off_the_site(root_admin, login_path, next_url):
    client = Client()
    response = _login(client, reverse(login_path), root_admin.username, next_url)
    assert response.status_code == 302  # signed in…
    assert _stays_on_site(response["Location"]), response["Location"]  # …and kept here
    assert "evil" not in response["Location"]


@pytest.mark.parametrize("next_url", EVIL)
@pytest.mark.parametrize("logout_path", ["web:logout", "admin:logout"])
def test_logout_never_redirects_off_the_site(alice, root_admin, logout_path, next_url):
    client = signed_in(root_admin)
    response = client.post(f"{reverse(logout_path)}?{urlencode({'next': next_url})}")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert _stays_on_site(response["Location"]), response["Location"]
    assert "evil" not in response.get("Location", "")


def test_a_safe_next_is_still_honoured(alice):
    """The refusals above are not a login that ignores next altogether."""
    response = _login(Client(), reverse("web:login"), "alice", "/inbox/?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/?page=2"
