"""The login lockout: one count of failures per account, shared by every login (the API's
`POST /api/auth/token/`, the admin's login form, anything that calls Django's
``authenticate``), because it is counted in the one authentication backend they all go
through (`LoginBackend`, settings `AUTHENTICATION_BACKENDS`).

- A staff account is refused after ``LOGIN_FAILURE_LIMIT_STAFF`` (5) failures, any other
  account (or an email that is nobody's) after ``LOGIN_FAILURE_LIMIT`` (20), from whatever
  addresses; refused for ``LOGIN_LOCKOUT`` (15 minutes), even with the right password. The
  API answers 429 with ``Retry-After`` (`wemoov.errors.TooManyAttempts`), the admin its
  lockout page (`LockoutMiddleware`), also 429.
- The admin's login also counts failures per address (``LOGIN_FAILURE_LIMIT_ADDRESS``, 5),
  with the API throttles' rule for the address (`wemoov.throttling.client_ip`: the connecting
  address unless ``NUM_PROXIES`` trusted proxies report one). The API's login keeps its own
  per-address limit instead: the ``auth`` throttle scope, 10/min, on every request.

Exact under concurrency. An attempt takes its place in the count (an atomic increment,
`wemoov.throttling.counter_hit`) *before* the password is checked, and is refused unevaluated
when its place is beyond the limit; a success, or a refusal, gives its place back. So the
count is the failures plus the attempts being evaluated, and with any number of attempts sent
at once no more than the limit are evaluated.

The window. Each failure keeps the count for 15 more minutes; the count goes back to zero
after 15 minutes without a failure. So any 5 failures within 15 minutes lock a staff account
(so does a slower series that never pauses for 15 minutes), and the lockout ends 15 minutes
after the failure that reached the limit: refused attempts are not failures and do not
prolong it. A success does not erase earlier failures.

Where it lives. In the cache (Redis in production: every worker and machine shares the count;
on the embedded locmem cache each process counts on its own). When the cache is unreachable
the lockout fails open, as the throttles do: the attempt is evaluated and a warning logged. A
lockout is logged on this module's logger (``WARNING``, "login locked"). To unlock at once:
``manage.py login_unlock <email>`` (``--address <ip>`` for an address), `login_unlock`.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.shortcuts import render
from rest_framework.request import Request

from wemoov.errors import TooManyAttempts
from wemoov.throttling import client_ip, counter_extend, counter_hit, counter_release, counter_retry_after

logger = logging.getLogger(__name__)


def _window() -> float:
    return settings.LOGIN_LOCKOUT.total_seconds()


def account_key(email: str) -> str:
    # Hashed: the admin's login field is free text, and a cache key must be short and plain.
    normalized = get_user_model().objects.normalize_email(email)
    return "login_account_" + hashlib.sha256(normalized.encode()).hexdigest()[:32]


def address_key(address: str) -> str:
    return "login_address_" + hashlib.sha256(address.encode()).hexdigest()[:32]


@dataclass
class _Count:
    key: str
    limit: int
    name: str  # what the log says was locked
    place: int = 0  # this attempt's place in the count


class Attempt:
    """One login attempt holding its places in the counts; `succeeded()` when the password
    was right (the place is given back instead of counting as a failure)."""

    def __init__(self) -> None:
        self.success = False

    def succeeded(self) -> None:
        self.success = True


@contextmanager
def login_attempt(*, email: str, staff: bool, address: str | None) -> Iterator[Attempt]:
    """Take this attempt's place in the account's count (and the address's, when given),
    or raise `TooManyAttempts` without evaluating it. On leaving: a failure stays counted
    (and keeps the counts for another window), anything else gives its places back."""
    limit = settings.LOGIN_FAILURE_LIMIT_STAFF if staff else settings.LOGIN_FAILURE_LIMIT
    counts = [_Count(account_key(email), limit, f"account {get_user_model().objects.normalize_email(email)!r}")]
    if address is not None:
        counts.append(_Count(address_key(address), settings.LOGIN_FAILURE_LIMIT_ADDRESS, f"address {address}"))
    window = _window()
    try:
        held = _take(counts, window)
    except TooManyAttempts:
        raise
    except Exception as exc:  # noqa: BLE001 - any cache error: evaluate the attempt, uncounted
        logger.warning("login lockout skipped, cache unavailable: %s", exc)
        held = []
    attempt = Attempt()
    failed = False
    try:
        yield attempt
        failed = not attempt.success
    finally:
        _leave(held, failed=failed, window=window)


def _take(counts: list[_Count], window: float) -> list[_Count]:
    """Each count's place for this attempt; if one of them is full, none (and the refusal)."""
    held: list[_Count] = []
    try:
        for count in counts:
            count.place = counter_hit(count.key, window=window)
            held.append(count)
        refused = [count for count in held if count.place > count.limit]
        if refused:
            retry_after = max(counter_retry_after(count.key, window=window) for count in refused)
            raise TooManyAttempts("Too many failed logins.", retry_after=retry_after)
    except BaseException:
        for count in held:  # a refused attempt is not a failure
            counter_release(count.key)
        raise
    return held


def _leave(held: list[_Count], *, failed: bool, window: float) -> None:
    try:
        for count in held:
            if not failed:
                counter_release(count.key)
                continue
            counter_extend(count.key, window=window)
            if count.place == count.limit:
                logger.warning("login locked: %s, %d failures", count.name, count.limit)
    except Exception as exc:  # noqa: BLE001 - the cache went away meanwhile: the answer stands
        logger.warning("login lockout not updated, cache unavailable: %s", exc)


def login_unlock(*, email: str | None = None, address: str | None = None) -> None:
    """Forget the failures counted for an account and/or an address: they may log in at once."""
    for key in ([account_key(email)] if email else []) + ([address_key(address)] if address else []):
        cache.delete_many([key, f"{key}:end"])


class LoginBackend(ModelBackend):
    """Django's ModelBackend (the same lookup, password check and timing for unknown emails),
    with every attempt counted by `login_attempt`. The one backend: a second one would check
    the password again, uncounted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if not isinstance(username, str) or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user = None
        # The API's login (a DRF request) has its per-address limit in its throttle.
        address = client_ip(request) if request is not None and not isinstance(request, Request) else None
        with login_attempt(email=username, staff=user is not None and user.is_staff, address=address) as attempt:
            if user is None:
                user_model().set_password(password)  # as long as a wrong password (ModelBackend's defence)
                return None
            if user.check_password(password) and self.user_can_authenticate(user):
                attempt.succeeded()
                return user
        return None


class LockoutMiddleware:
    """A login refused by the lockout outside the API (the admin's form) answers the
    lockout page, 429 with Retry-After; the API's views answer their own JSON 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TooManyAttempts):
            return None
        context = {**admin.site.each_context(request), "minutes": math.ceil(exception.retry_after / 60)}
        response = render(request, "admin/lockout.html", context, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response
