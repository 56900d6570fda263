"""Knox token authentication with the lookup cached, so a warm request costs no query.

knox reads the token row (with its user) and then the user's other tokens on every
request. Here the lookup is cached under the token's digest for at most
``WEMOOV_CACHE_TTLS["auth_token"]`` seconds and never past the token's expiry: one cache
round trip, no database query. What the entry holds and how it is revoked (deactivation,
deletion, a password or role change, whoever makes it): `users.credentials`.
"""

from __future__ import annotations

import binascii
import logging

from django.conf import settings
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

from users import credentials

logger = logging.getLogger(__name__)


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            digest = hash_token(token.decode("utf-8"))
        except (TypeError, ValueError, binascii.Error) as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        try:
            cached = credentials.recall(digest)
        except Exception as exc:  # noqa: BLE001 - a cache outage must not lock users out
            logger.warning("token cache unavailable: %s", exc)
            cached = None
        now = timezone.now()
        if cached is not None:
            user, auth_token = cached
            if auth_token.expiry is None or auth_token.expiry > now:
                return user, auth_token
        user, auth_token = super().authenticate_credentials(token)
        ttl = credentials.seconds_left(auth_token.expiry, now, settings.WEMOOV_CACHE_TTLS["auth_token"])
        if ttl > 0:
            try:
                credentials.remember(digest, user, auth_token, ttl=ttl)
            except Exception as exc:  # noqa: BLE001
                logger.warning("token cache unavailable: %s", exc)
        return user, auth_token
