"""Issue 14: the shipped set-up behind HTTPS, tested end to end with the real programs.

nginx runs the repository's site file (deploy/nginx/tracker.conf, only its ports, certificate
and paths rewritten for the test) with a certificate made by openssl; gunicorn runs with the
options of deploy/systemd/tracker-web.service and the production settings, configured from
deploy/tracker.env.example (database, folders and ports pointed at the test's). Then, through
the proxy:

- https GET /health/live/ and the login page answer 200 (no redirect loop), with HSTS;
- plain http is redirected to https exactly once, even when the client claims https itself;
- a health probe straight to gunicorn over plain http gets 200, not a redirect (compose's
  healthcheck, run as shipped);
- wrong passwords are counted against the client's real address, whatever X-Forwarded-For the
  client forges, so after LOGIN_LOCKOUT_FAILURES of them the next try waits;
- the session, CSRF and device cookies are Secure, and HttpOnly where a script need not read
  them.

Skips without nginx or openssl unless TRACKER_REQUIRE_DEPLOY_TOOLS=1 (CI), like
test_deploy_files. Runs on SQLite and PostgreSQL alike (the test database, via DATABASE_URL).
"""

import http.client
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.databases import database_url_of_test_db
from tests.ops.test_deploy_files import _compose, _env_example, _tool
from tests.tracker.factories import UserFactory
from tracker.models import LoginFailure

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HOST = "tracker.example.gov.cn"
# The test client connects to nginx from this loopback address; gunicorn only ever sees
# nginx's 127.0.0.1. The login waits must count this one.
CLIENT_ADDRESS = "127.0.0.5"
LOCKOUT_FAILURES = 3
PASSWORD = "proxy-test-pass-8391"

# The servers' tests commit rows gunicorn must see; the rule's own tests need no database.
live_db = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _render_site(*, http_port: int, https_port: int, app_port: int, tls: Path,
                 static: Path) -> str:
    """The shipped site with the test's ports and paths; every other line as shipped."""
    site = (DEPLOY / "nginx" / "tracker.conf").read_text(encoding="utf-8")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/etc/tracker/tls/": f"{tls}/",
        "alias /srv/tracker/var/staticfiles/;": f"alias {static}/;",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/tracker.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


def _gunicorn_command(app_port: int) -> list[str]:
    """ExecStart of the shipped unit, with the test's port and one worker."""
    unit = (DEPLOY / "systemd" / "tracker-web.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.*?)(?<!\\)$", unit, re.M | re.S).group(1)
    words = shlex.split(exec_start.replace("\\\n", " "))
    assert words[0] == "/srv/tracker/.venv/bin/gunicorn"
    words[0] = str(Path(sys.executable).with_name("gunicorn"))
    command = " ".join(words).replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
    command = command.replace("${WEB_WORKERS}", "1").replace("${WEB_TIMEOUT}", "30")
    assert "--forwarded-allow-ips 127.0.0.1" in command
    return shlex.split(command)


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory, django_db_setup):
    """nginx (TLS) → gunicorn (loopback) with production settings; yields the ports."""
    nginx = _tool("nginx")
    openssl = _tool("openssl")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.fail("gunicorn is in requirements/production.txt but not installed")
    base = tmp_path_factory.mktemp("proxy")
    base.chmod(0o755)  # nginx's workers (another user when the master is root) read under it
    tls, static = base / "tls", base / "static"
    tls.mkdir()
    static.mkdir()
    (static / "probe.txt").write_text("static from nginx", encoding="utf-8")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
         "-keyout", str(tls / "tracker.key"), "-out", str(tls / "tracker.crt")],
        check=True, capture_output=True,
    )
    http_port, https_port, app_port = _free_port(), _free_port(), _free_port()
    site = base / "tracker.conf"
    site.write_text(_render_site(http_port=http_port, https_port=https_port, app_port=app_port,
                                 tls=tls, static=static), encoding="utf-8")
    temp = "".join(f"  {kind}_temp_path {base}/{kind}_temp;\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = base / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {base}/nginx.pid;\nerror_log {base}/nginx-error.log;\n"
        f"events {{}}\nhttp {{\n  access_log off;\n{temp}  include {site};\n}}\n",
        encoding="utf-8",
    )

    # The environment template, with what points at this machine replaced.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(_env_example())
    env.update(
        DATABASE_URL=database_url_of_test_db(), CONN_MAX_AGE="0",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/8", CACHE_URL="redis://127.0.0.1:6379/8",
        TRACKER_VAR_DIR=str(base / "var"), PRIVATE_MEDIA_ROOT=str(base / "var" / "private"),
        STATIC_ROOT=str(static), LOG_FORMAT="plain", SENTRY_DSN="",
        LOGIN_LOCKOUT_FAILURES=str(LOCKOUT_FAILURES), PYTHONPATH=str(ROOT),
    )
    assert env["NUM_PROXIES"] == "1"
    assert env["ALLOWED_HOSTS"] == HOST
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"

    app_log, nginx_log = base / "gunicorn.log", base / "nginx.log"
    with app_log.open("w") as out:
        app = subprocess.Popen(_gunicorn_command(app_port), cwd=ROOT, env=env, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    with nginx_log.open("w") as out:
        proxy = subprocess.Popen([nginx, "-e", "stderr", "-p", str(base), "-c", str(conf)],
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_listening(https_port, proxy, nginx_log)
        _wait_until_listening(app_port, app, app_log)
        yield {"http": http_port, "https": https_port, "app": app_port, "cert": tls / "tracker.crt",
               "env": env}
    finally:
        _stop(proxy)
        _stop(app)


class Client:
    """A browser's worth of HTTP over the proxy: connects from CLIENT_ADDRESS, verifies the
    test certificate, keeps cookies by hand, follows no redirects."""

    def __init__(self, site: dict):
        self.site = site
        self.cookies: dict[str, str] = {}
        # The chain is verified against the test's certificate; it names the site, while the
        # connection goes to 127.0.0.1, so the name is not compared.
        self.context = ssl.create_default_context(cafile=str(site["cert"]))
        self.context.check_hostname = False

    def request(self, method: str, path: str, *, scheme: str = "https", port: int | None = None,
                headers: dict | None = None, form: dict | None = None):
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                "127.0.0.1", port or self.site["https"], timeout=15, context=self.context,
                source_address=(CLIENT_ADDRESS, 0))
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", port or self.site["http"], timeout=15,
                source_address=(CLIENT_ADDRESS, 0))
        all_headers = {"Host": HOST, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        response.text = response.read().decode("utf-8", errors="replace")
        response.set_cookies = response.msg.get_all("Set-Cookie") or []
        for header in response.set_cookies:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response

    def login(self, username: str, password: str, *, forged_for: str | None = None):
        page = self.request("GET", "/login/")
        assert page.status == 200, page.text[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        headers = {"Referer": f"https://{HOST}/login/", "Origin": f"https://{HOST}"}
        if forged_for is not None:
            headers["X-Forwarded-For"] = forged_for
        return self.request("POST", "/login/", headers=headers, form={
            "csrfmiddlewaretoken": token, "username": username, "password": password})


def _cookie_flags(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def _set_cookie(response, name: str) -> str:
    found = [header for header in response.set_cookies if header.startswith(f"{name}=")]
    assert found, f"no {name} cookie in {response.set_cookies}"
    return found[0]


@pytest.fixture
def officer(db):
    # Production settings verify with PBKDF2 (the test settings hash with MD5, which
    # production does not accept); few iterations keep the test fast.
    user = UserFactory(username="proxy-officer")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "proxysalt0123456", iterations=1000)
    user.save(update_fields=["password"])
    return user


@live_db
def test_https_health_and_pages_answer_without_a_redirect_loop_and_send_hsts(proxied_site):
    client = Client(proxied_site)
    for path in ("/health/live/", "/login/"):
        response = client.request("GET", path)
        assert response.status == 200, (path, response.status, response.getheader("Location"))
        hsts = response.getheader("Strict-Transport-Security")
        assert hsts == "max-age=31536000; includeSubDomains; preload", path
    # Static files come from nginx's alias, not from Python.
    static = client.request("GET", "/static/probe.txt")
    assert static.status == 200
    assert static.text == "static from nginx"


@live_db
def test_plain_http_is_redirected_to_https_once_even_if_the_client_claims_https(proxied_site):
    client = Client(proxied_site)
    for headers in ({}, {"X-Forwarded-Proto": "https"}):
        response = client.request("GET", "/health/live/?probe=1", scheme="http", headers=headers)
        assert response.status == 301
        assert response.getheader("Location") == f"https://{HOST}/health/live/?probe=1"
        assert response.getheader("Strict-Transport-Security") is None
    followed = client.request("GET", "/health/live/?probe=1")
    assert followed.status == 200


@live_db
def test_a_health_probe_straight_to_gunicorn_gets_an_answer_not_a_redirect(proxied_site):
    # deploy/compose.yaml's healthcheck, run as shipped (only the port is the test's).
    check = _compose()["services"]["web"]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    code = check[3].replace("127.0.0.1:8000", f"127.0.0.1:{proxied_site['app']}")
    result = subprocess.run([sys.executable, "-c", code], env=proxied_site["env"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    # Without the site's name as Host, Django refuses the request: the check must send it.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{proxied_site['app']}/health/live/",
                               timeout=10)
    assert refused.value.code == 400
    connection = http.client.HTTPConnection("127.0.0.1", proxied_site["app"], timeout=10)
    connection.request("GET", "/health/live/", headers={"Host": HOST})
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    # Any other page, asked for over plain http without the proxy, is sent to https.
    connection.request("GET", "/login/", headers={"Host": HOST})
    other = connection.getresponse()
    other.read()
    assert other.status == 301
    assert other.getheader("Location") == f"https://{HOST}/login/"
    connection.close()


@live_db
def test_forged_x_forwarded_for_does_not_change_the_counted_address(proxied_site, officer):
    client = Client(proxied_site)
    for attempt in range(LOCKOUT_FAILURES):
        wrong = client.login(officer.username, "wrong-password",
                             forged_for=f"10.66.0.{attempt}, 10.77.0.{attempt}")
        assert wrong.status == 200
        # The LOGIN_LOCKOUT_FAILURES-th failure starts the wait; none before it.
        assert ("登录失败次数过多" in wrong.text) == (attempt == LOCKOUT_FAILURES - 1)
    # Every failure landed on the real address nginx saw, none on a forged one.
    keys = set(LoginFailure.objects.values_list("key", flat=True))
    assert keys == {f"account:{officer.username}|{CLIENT_ADDRESS}", f"address:{CLIENT_ADDRESS}"}
    # The next try waits, even with the right password and yet another forged address.
    locked = client.login(officer.username, PASSWORD, forged_for="10.88.0.1")
    assert locked.status == 200
    assert "登录失败次数过多" in locked.text
    assert not any(header.startswith("sessionid=") for header in locked.set_cookies)


@live_db
def test_login_over_the_proxy_sets_secure_cookies(proxied_site, officer):
    client = Client(proxied_site)
    response = client.login(officer.username, PASSWORD)
    assert response.status == 302, response.text[:500]
    assert response.getheader("Location") == "/"
    session = _cookie_flags(_set_cookie(response, "sessionid"))
    assert {"secure", "httponly", "samesite"} <= session
    assert "samesite=lax" in _set_cookie(response, "sessionid").lower()
    device = _cookie_flags(_set_cookie(response, "tracker_device"))
    assert {"secure", "httponly"} <= device
    # The CSRF cookie came with the login page; it is Secure too.
    page = Client(proxied_site).request("GET", "/login/")
    assert "secure" in _cookie_flags(_set_cookie(page, "csrftoken"))
    # Signed in over https: the home page sends the officer to their task list, which answers.
    home = client.request("GET", "/")
    assert home.status == 302
    assert home.getheader("Location") == "/tasks/"
    tasks = client.request("GET", "/tasks/")
    assert tasks.status == 200, tasks.status


# --- The rule itself (no servers) ----------------------------------------------------------


@pytest.mark.parametrize(("num_proxies", "forwarded", "expected"), [
    (None, "6.6.6.6", "192.0.2.10"),  # no proxy declared: the header is the client's word
    (0, "6.6.6.6", "192.0.2.10"),
    (1, None, "192.0.2.10"),
    (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # nginx appended the real peer last
    (1, " 203.0.113.7 ", "203.0.113.7"),
    (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),  # intranet proxy → nginx → app
    (2, "203.0.113.7", "192.0.2.10"),  # fewer hops than proxies: not through them all
])
def test_client_address_trusts_exactly_num_proxies_hops(settings, rf, num_proxies, forwarded,
                                                        expected):
    from tracker.services.auth import client_address

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = rf.get("/", REMOTE_ADDR="192.0.2.10", **headers)
    assert client_address(request) == expected


def test_api_throttles_count_the_same_address_as_the_login_waits(settings, rf):
    """A forged X-Forwarded-For neither escapes the anonymous throttle nor lands on another
    client's count: DRF's own rule would use the whole header when NUM_PROXIES is unset."""
    from rest_framework.settings import api_settings

    from config.api.throttling import AnonThrottle, UserThrottle
    from tracker.services.auth import client_address

    assert {AnonThrottle, UserThrottle} <= set(api_settings.DEFAULT_THROTTLE_CLASSES)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": None}
    request = rf.get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert AnonThrottle().get_ident(request) == client_address(request) == "192.0.2.10"
    assert UserThrottle().get_ident(request) == "192.0.2.10"


# --- waitress (`make run`) behind a proxy ----------------------------------------------------


def _through_waitress(options: dict, environ: dict) -> dict:
    """What the application sees after waitress's own proxy-header handling, configured with
    the options run_tracker passes to waitress.serve."""
    from waitress.proxy_headers import proxy_headers_middleware

    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    wrapped = proxy_headers_middleware(
        app, trusted_proxy=options.get("trusted_proxy"),
        trusted_proxy_count=options.get("trusted_proxy_count", 1),
        trusted_proxy_headers=options.get("trusted_proxy_headers"),
        clear_untrusted=options.get("clear_untrusted_proxy_headers", True),
    )
    wrapped({"wsgi.url_scheme": "http", **environ}, lambda *args: None)
    return seen


@pytest.mark.parametrize("num_proxies", [None, 1])
def test_waitress_behind_a_trusted_proxy_passes_https_and_the_client_address(settings, rf,
                                                                            num_proxies):
    from tracker.management.commands.run_tracker import waitress_options
    from tracker.services.auth import client_address

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https",
                 "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
    # Alone (no TRUSTED_PROXY): the forwarded headers are dropped, as waitress does by default.
    alone = _through_waitress(waitress_options(trusted_proxy=None), forwarded)
    assert "HTTP_X_FORWARDED_PROTO" not in alone
    assert "HTTP_X_FORWARDED_FOR" not in alone
    # Behind nginx on 127.0.0.1: https reaches Django, and the client is nginx's last hop.
    seen = _through_waitress(waitress_options(trusted_proxy="127.0.0.1"), forwarded)
    assert seen["HTTP_X_FORWARDED_PROTO"] == "https"
    request = rf.get("/", **{key: value for key, value in seen.items()
                             if key.startswith(("HTTP_", "REMOTE_"))})
    assert request.META["REMOTE_ADDR"] == "203.0.113.7"
    assert client_address(request) == "203.0.113.7"
    # A proxy at another address is not trusted.
    stranger = _through_waitress(waitress_options(trusted_proxy="127.0.0.1"),
                                 {**forwarded, "REMOTE_ADDR": "10.1.1.1"})
    assert "HTTP_X_FORWARDED_PROTO" not in stranger
