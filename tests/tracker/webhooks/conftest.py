"""A real HTTP server receiving the webhooks on 127.0.0.1 (ephemeral port): it checks every
request's signature with the endpoint's secret, answers from a per-path script, and counts.
The Celery worker and the SMTP server come from the reminder tests' fixtures."""

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.tracker.reminders.conftest import celery_worker, smtp_server  # noqa: F401
from tracker.webhooks import signing


class Receiver:
    """Per path: `secrets` to verify with, `scripts` of (status, delay seconds) answered in
    order (then 200 at once). Each request is recorded with whether its signature held."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.scripts: dict[str, list[tuple[int, float]]] = {}
        self.secrets: dict[str, str] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = urllib.parse.urlsplit(self.path).path
                with receiver.lock:
                    script = receiver.scripts.get(path)
                    status, delay = script.pop(0) if script else (200, 0.0)
                    secret = receiver.secrets.get(path, "")
                verified = bool(secret) and signing.verify(
                    secret=secret, timestamp=self.headers.get(signing.TIMESTAMP_HEADER, ""),
                    body=raw, received=self.headers.get(signing.SIGNATURE_HEADER, ""),
                )
                with receiver.lock:
                    receiver.requests.append({
                        "path": path, "headers": dict(self.headers), "raw": raw,
                        "json": json.loads(raw.decode("utf-8")), "verified": verified,
                        "status": status,
                    })
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender timed out and hung up

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def received(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.scripts.clear()
            self.secrets.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def receiver(_receiver):
    _receiver.reset()
    yield _receiver
    _receiver.reset()


@pytest.fixture
def endpoint_at(receiver):
    """endpoint_at(path, **fields): an endpoint on the receiver whose secret it verifies."""
    from tests.tracker.factories import WebhookEndpointFactory

    def make(path: str, **fields):
        endpoint = WebhookEndpointFactory(url=receiver.url(path), **fields)
        receiver.secrets[path] = endpoint.secret
        return endpoint

    return make
