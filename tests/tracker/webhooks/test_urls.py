"""Which webhook URLs are accepted (tracker.webhooks.urls, no database)."""

import pytest
from django.core.exceptions import ValidationError

from tracker.webhooks.urls import validate_webhook_url


@pytest.mark.parametrize("url", [
    "http://10.1.2.3:8080/hooks/tracker",
    "https://oa.example.internal/api/tracker?channel=ledger",
    "http://localhost/hook",
])
def test_http_and_https_intranet_urls_are_accepted(url):
    validate_webhook_url(url)


@pytest.mark.parametrize(("url", "code"), [
    ("ftp://oa.example.internal/hook", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("oa.example.internal/hook", "scheme"),
    ("http:///hook", "host"),
    ("https://user:secret@oa.example.internal/hook", "credentials"),
    ("https://token@oa.example.internal/hook", "credentials"),
    ("https://oa.example.internal/hook#part", "fragment"),
    ("http://oa.example.internal:99999/hook", "invalid"),
])
def test_other_urls_are_refused_with_their_reason(url, code):
    with pytest.raises(ValidationError) as refused:
        validate_webhook_url(url)
    assert refused.value.code == code
