"""DRF's throttles, with the contract's client identity and failing open when the cache is
unreachable (a Redis outage must not become an API outage: the request is let through and
a warning is logged).

Identity: the connecting address (``REMOTE_ADDR``). ``X-Forwarded-For`` is believed only
when ``NUM_PROXIES`` says how many trusted proxies stand in front, and then only the entry
the nearest of them appended: what a client writes further left is its own invention.
DRF itself, with ``NUM_PROXIES`` unset, would take the whole header as the identity, so a
new header per request would be a fresh login budget.
"""

from __future__ import annotations

import ipaddress
import logging

from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address as the contract defines it (see the module docstring)."""
    remote_addr = request.META.get("REMOTE_ADDR") or ""
    num_proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not forwarded:
        return remote_addr
    addrs = [addr.strip() for addr in forwarded.split(",")]
    candidate = addrs[-min(num_proxies, len(addrs))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # The proxies append addresses; garbage there means the header did not come from
        # them, so it identifies nobody.
        return remote_addr


class _ContractIdentity:
    def get_ident(self, request):
        return client_ip(request)


class _FailOpen:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache error: let the request through
            logger.warning("throttle skipped, cache unavailable: %s", exc)
            return True


class AnonRateThrottle(_ContractIdentity, _FailOpen, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_ContractIdentity, _FailOpen, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(_ContractIdentity, _FailOpen, throttling.ScopedRateThrottle):
    pass
