"""Outbound channels: e-mail and the WeCom / DingTalk group robots.

A sender either returns (sent), raises TryLater (a transient failure worth retrying: network
errors, timeouts, HTTP 5xx or 429, the robots' rate-limit codes) or raises SendFailed (a
permanent one: bad address, wrong key, rejected message). Nothing else is caught by callers.
"""


class TryLater(Exception):
    """The send may succeed later; retry with backoff."""


class SendFailed(Exception):
    """The send will not succeed by retrying; record it as failed."""
