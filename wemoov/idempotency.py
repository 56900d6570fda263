"""`Idempotency-Key` for unsafe API requests (IETF draft "The Idempotency-Key HTTP Header
Field").

A record per (user, key) holds a fingerprint of the request and, once done, the response:

* a retry with the same key and the same body replays the stored response (same status,
  same object, no second row);
* the same key with another body answers 422;
* a retry while the first request is still being processed answers 409
  `request_in_progress` (the first request committed its in-progress record before it
  began, and the unique constraint makes the second one find it);
* a first attempt that did not succeed (any 4xx/5xx, or an exception) releases the key;
* records older than ``WEMOOV_IDEMPOTENCY_TTL_HOURS`` are ignored and purged
  (``manage.py idempotency_purge``, or lazily when their key is reused).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from wemoov.errors import RequestInProgress
from wemoov.http_errors import UnprocessableEntity
from wemoov.models import IdempotencyRecord, IdempotencyState

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# An in-progress record this old belongs to a request that died: it no longer holds the key.
ABANDONED_AFTER = timedelta(minutes=5)


def _printable_ascii(key: str) -> bool:
    """The draft makes the key a structured-field String: printable ASCII. Anything else
    (a NUL byte PostgreSQL cannot store, Latin-1 that WSGI decoded from UTF-8) is refused."""
    return all(" " <= char <= "~" for char in key)


def fingerprint(method: str, path: str, data) -> str:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method}\n{path}\n{body}".encode()).hexdigest()


def expired_before() -> timezone.datetime:
    return timezone.now() - timedelta(hours=settings.WEMOOV_IDEMPOTENCY_TTL_HOURS)


def idempotency_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired_before()).delete()
    return deleted


def _claim(*, user, key: str, method: str, path: str, digest: str) -> IdempotencyRecord | Response:
    """Commit an in-progress record for the key, or return what its holder decides."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user, key=key, method=method, path=path[:255], fingerprint=digest
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # released between our insert and our read: try once more
        now = timezone.now()
        stale = existing.created_at < expired_before() or (
            existing.state == IdempotencyState.IN_PROGRESS and existing.created_at < now - ABANDONED_AFTER
        )
        if stale:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != digest:
            raise UnprocessableEntity("This Idempotency-Key was already used with a different request.")
        if existing.state == IdempotencyState.IN_PROGRESS:
            raise RequestInProgress()
        response = Response(existing.response_body, status=existing.response_status)
        response["Idempotent-Replayed"] = "true"
        return response
    raise RequestInProgress()


def idempotent(view_method=None, *, atomic: Callable[[Any], bool] | None = None):
    """Decorate a DRF view method (`create`) to honour the Idempotency-Key header.

    The work and the stored response commit together, in one transaction. Where the work
    calls another service over the network (a payment provider), that transaction would be
    held open across the call: `atomic(request)` returning False says so, and then the view
    commits its own steps and the response is stored after them (a crash in between leaves
    the in-progress record, abandoned after ABANDONED_AFTER, as a crash always does)."""
    if view_method is None:
        return functools.partial(idempotent, atomic=atomic)

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not _printable_ascii(key):
            raise exceptions.ValidationError(
                {HEADER: [f"Must be between 1 and {MAX_KEY_LENGTH} printable ASCII characters."]}
            )
        digest = fingerprint(request.method, request.path, request.data)
        claimed = _claim(user=request.user, key=key, method=request.method, path=request.path, digest=digest)
        if isinstance(claimed, Response):
            return claimed
        scope = transaction.atomic() if atomic is None or atomic(request) else contextlib.nullcontext()
        try:
            # The work and the stored response commit together: a crash in between leaves
            # only the in-progress record, which is abandoned after ABANDONED_AFTER.
            with scope:
                response = view_method(view, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyRecord.objects.filter(pk=claimed.pk).update(
                        state=IdempotencyState.DONE, response_status=response.status_code, response_body=response.data
                    )
        except BaseException:
            claimed.delete()
            raise
        if not 200 <= response.status_code < 300:
            claimed.delete()
        return response

    return wrapper
