"""The API's throttles count per client address by the same rule as the login waits
(tracker.services.auth.client_address), not DRF's own, which trusts a forged
X-Forwarded-For when NUM_PROXIES is unset."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tracker.services.auth import client_address


class ClientAddressMixin:
    def get_ident(self, request):
        return client_address(request)


class AnonThrottle(ClientAddressMixin, AnonRateThrottle):
    pass


class UserThrottle(ClientAddressMixin, UserRateThrottle):
    pass
