"""Revocation that every path passes, and the cached token lookup's entry.

The API caches each token lookup (`users.authentication`) so that a warm request costs no
database query and one cache round trip. Revocation is put where every path passes:
`User.save()` and the deletion of a user. Django's password form, `manage.py
changepassword`, `user.set_password(); user.save()` in a shell, the admin's `is_active`
checkbox and the API's services all end there, while none of them calls a service.

On every save of an existing user (and on deletion):
* a deactivated user's tokens, and every token of a user whose password was just set,
  are deleted from the database in the same transaction (reactivating brings none back);
* once the transaction commits, every cached lookup of the user's tokens (their digests
  are read in that transaction) is deleted from the shared cache, so every process reads
  the database on the very next request: a role change applies at once, a revoked token
  answers 401.

A marker per digest ("stale", kept as long as an entry could live) closes the one race
left: a request that read the token from the database just before the change and writes
its cache entry just after the deletion. After writing, it looks for the marker and, when
it is there, deletes its own entry (`remember`). Either the deletion comes after that
write, or the marker is there before that look.

What it does not see: a plain SQL `UPDATE users_user ...` or `QuerySet.update()` (no save),
and a hash assigned to `user.password` without `set_password()`; the cached lookups then
live out their TTL (`CACHE_TTL_AUTH_TOKEN`, 60 s) and the tokens stay in the database. A
hash upgraded at login (`check_password` rehashing) is deliberately not a password change.

The entry holds only what authentication needs, never the password hash: the user's
plain fields, the token's row and, for a staff member who is not a superuser, their
permissions (what `has_perm` reads: `users.access` asks it on every staff request, and
Django's ModelBackend would read them with two queries each time). The instances are rebuilt
with `Model.from_db`, so the password field stays deferred (a later `save()` of that instance
cannot blank it), and the permissions are put where ModelBackend keeps what it has read
(`_perm_cache`, per user instance, Django's documented permission caching).

Permissions change without a save of the user: a group given or taken away, a permission
added to a user or to one of their groups, a group or a permission deleted, from the admin
or a shell. `access_changed` drops the cached lookups of every user concerned, as a
credentials change does (`users.apps` calls it from Django's `m2m_changed` and `pre_delete`,
the only hooks such changes pass). A migration's changes (users.groups) go through its
historical models, which send to no receiver of ours: cached lookups then live out their TTL,
as after a plain SQL `UPDATE`.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from wemoov.cache import get_confirming

logger = logging.getLogger(__name__)

# What a request needs of its user (permissions read role, is_staff, is_superuser).
USER_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "role",
    "is_active",
    "is_staff",
    "is_superuser",
    "created_at",
)
TOKEN_FIELDS = ("digest", "token_key", "user_id", "created", "expiry")


def token_cache_key(digest: str) -> str:
    return f"auth:{digest}"


def stale_marker_key(digest: str) -> str:
    return f"authstale:{digest}"


def credentials_changed(*, user_id: int | None, digests: list[str]) -> None:
    """Once the current transaction commits (at once outside one): the user's cached token
    lookups are marked stale and deleted, for every process."""
    if not digests:
        return

    def forget() -> None:
        ttl = settings.WEMOOV_CACHE_TTLS["auth_token"]
        try:
            cache.set_many({stale_marker_key(d): 1 for d in digests}, timeout=ttl)
            cache.delete_many([token_cache_key(d) for d in digests])
        except Exception as exc:  # noqa: BLE001 - a cache outage: entries expire within their TTL
            logger.warning("cached credentials of user %s not dropped: %s", user_id or "(several)", exc)

    transaction.on_commit(forget)


def access_changed(users) -> None:
    """The permissions of these users (ids, or a queryset of users) changed: once the current
    transaction commits, their cached token lookups are dropped, for every process. Their
    tokens are read now, before a change such as a group's deletion takes its rows."""
    from knox.models import get_token_model

    digests = list(get_token_model().objects.filter(user__in=users).values_list("digest", flat=True))
    credentials_changed(user_id=None, digests=digests)


def permissions_of(user) -> list[str] | None:
    """What `has_perm` would read for this user, to travel with the cached lookup: a staff
    member's permissions (their own and their groups'). None for a superuser (has_perm
    answers yes without reading) and for anyone else (only staff are asked)."""
    if not (user.is_active and user.is_staff) or user.is_superuser:
        return None
    return sorted(user.get_all_permissions())


def pack(user, token) -> dict:
    return {
        "user": {name: getattr(user, name) for name in USER_FIELDS},
        "token": {name: getattr(token, name) for name in TOKEN_FIELDS},
        "permissions": permissions_of(user),
    }


def unpack(entry: dict):
    from django.contrib.auth import get_user_model
    from knox.models import get_token_model

    user = _from_db(get_user_model(), entry["user"])
    token = _from_db(get_token_model(), entry["token"])
    token.user = user
    permissions = entry.get("permissions")
    if permissions is not None:
        user._perm_cache = set(permissions)  # ModelBackend.get_all_permissions reads it first
    return user, token


def _from_db(model, values: dict):
    # from_db takes the loaded values in the model's field order, the others deferred.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[n] for n in names])


def recall(digest: str):
    """The cached (user, token) of a digest, or None: one cache round trip, which also
    confirms the statistics' versions for this request (``wemoov.cache.get_confirming``)."""
    entry = get_confirming(token_cache_key(digest))
    return None if entry is None else unpack(entry)


def remember(digest: str, user, token, *, ttl: int) -> None:
    """Cache a lookup just read from the database, unless the user's credentials changed
    meanwhile (see the module's docstring)."""
    key = token_cache_key(digest)
    cache.set(key, pack(user, token), timeout=ttl)
    if cache.get(stale_marker_key(digest)) is not None:
        with contextlib.suppress(Exception):
            cache.delete(key)


def seconds_left(expiry: datetime | None, now: datetime, ttl: int) -> int:
    if expiry is None:
        return ttl
    return min(ttl, int((expiry - now).total_seconds()))
