"""Knox token authentication with the lookup cached, so a warm request costs no query.

knox reads the token row (with its user) and then the user's other tokens on every
request. Here the (user, token) pair is cached under the token's digest for at most
``WEMOOV_CACHE_TTLS["auth_token"]`` seconds and never past the token's expiry. The entry is
dropped at once on logout, deactivation, password change and any change to the user
(``users.services.user_auth_cache_forget``).
"""

from __future__ import annotations

import binascii
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

logger = logging.getLogger(__name__)


def token_cache_key(digest: str) -> str:
    return f"auth:{digest}"


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            digest = hash_token(token.decode("utf-8"))
        except (TypeError, ValueError, binascii.Error) as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        key = token_cache_key(digest)
        try:
            entry = cache.get(key)
        except Exception as exc:  # noqa: BLE001 - a cache outage must not lock users out
            logger.warning("token cache unavailable: %s", exc)
            entry = None
        if entry is not None:
            user, auth_token = entry
            if auth_token.expiry is None or auth_token.expiry > timezone.now():
                return user, auth_token
        user, auth_token = super().authenticate_credentials(token)
        ttl = settings.WEMOOV_CACHE_TTLS["auth_token"]
        if auth_token.expiry is not None:
            ttl = min(ttl, int((auth_token.expiry - timezone.now()).total_seconds()))
        if ttl > 0:
            try:
                cache.set(key, (user, auth_token), timeout=ttl)
            except Exception as exc:  # noqa: BLE001
                logger.warning("token cache unavailable: %s", exc)
        return user, auth_token
