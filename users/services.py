"""Writes on users: creation, profile updates, deactivation, tokens; and who may change whom
(`user_change_check`), the one rule every door that changes a user asks."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from users.credentials import token_cache_key
from users.models import Role, User, UserManager
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import InvalidInput, NotPermitted
from wemoov.services import UNCHANGED, changed_fields

EMAIL_TAKEN = "A user with this email already exists."

# --- Who may change whom (the contract's "Staff permissions") -------------------------------
# What only a superuser grants or takes away (the `admin` role too: see `user_change_check`).
SUPERUSER_ONLY_FIELDS = frozenset({"is_staff", "is_superuser", "groups", "user_permissions"})
# What nobody changes on themselves, a superuser included: another superuser does it. Staff
# status and superuser status are a role and a permission, so they are here too.
OWN_LOCKED_FIELDS = frozenset({"role", "is_active", *SUPERUSER_ONLY_FIELDS})
OWN_LOCKED_MESSAGES = {
    "role": "You cannot change your own role.",
    "is_active": "You cannot deactivate yourself.",
    "is_staff": "You cannot change your own staff status.",
    "is_superuser": "You cannot change your own superuser status.",
    "groups": "You cannot change your own groups.",
    "user_permissions": "You cannot change your own permissions.",
}
ANOTHER_STAFF_MEMBER = "Only a superuser may change another staff member."
SUPERUSER_ONLY = (
    "Only a superuser may grant or take away the admin role, staff or superuser status, groups or permissions."
)
DRIVER_KEEPS_ROLE = "A user with a driver profile cannot be given another role: deactivate them instead."


def user_change_check(*, actor: User, user: User, changes: Mapping[str, Any]) -> None:
    """Refuse what `actor` may not change on `user`; return None when they may.

    `changes` maps each field that would change to its new value (a field not in it stays as
    it is; names this rule does not know, such as `first_name` or `password`, are a change
    of the user all the same). The API (`user_update`), the admin's actions, its change and
    add forms, its password page and its delete all ask this one function:

    - nobody changes their own role, activity, staff or superuser status, groups or
      permissions (`InvalidInput` on those fields: a superuser too, so that nobody locks
      themselves out or crowns themselves; another superuser does it);
    - only a superuser changes anything of another staff member, or grants the `admin`
      role, staff or superuser status, groups or permissions (`NotPermitted`); with no
      changes at all this answers whether `actor` may change `user` at all;
    - a user with a driver profile keeps the driver role (`InvalidInput` on `role`; the
      database's trigger would refuse it too, as an IntegrityError).

    `user` is the user as stored (an unsaved one for a user being created)."""
    if user.pk is not None and user.pk == actor.pk:
        own = sorted(changes.keys() & OWN_LOCKED_FIELDS)
        if own:
            raise InvalidInput({name: [OWN_LOCKED_MESSAGES[name]] for name in own})
    elif not actor.is_superuser:
        if user.is_staff or user.is_superuser:
            raise NotPermitted(ANOTHER_STAFF_MEMBER)
        if changes.keys() & SUPERUSER_ONLY_FIELDS or changes.get("role") == Role.ADMIN:
            raise NotPermitted(SUPERUSER_ONLY)
    role = changes.get("role")
    if (
        role is not None
        and role != Role.DRIVER
        and user.pk is not None
        # The reverse side of fleet's one-to-one, by name: users imports no app downstream.
        and User.objects.filter(pk=user.pk, driver_profile__isnull=False).exists()
    ):
        raise InvalidInput.on("role", DRIVER_KEEPS_ROLE)


def user_create(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    role: str = Role.CLIENT,
) -> User:
    email = UserManager.normalize_email(email)
    candidate = User(email=email, first_name=first_name, last_name=last_name, phone=phone, role=role)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from exc
    if User.objects.filter(email=email).exists():
        raise InvalidInput.on("email", EMAIL_TAKEN)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name, phone=phone, role=role
            )
    except IntegrityError as exc:  # a concurrent registration with the same email
        raise InvalidInput.on("email", EMAIL_TAKEN) from exc


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: User | None = None,
    first_name: Any = UNCHANGED,
    last_name: Any = UNCHANGED,
    phone: Any = UNCHANGED,
    is_active: Any = UNCHANGED,
) -> User:
    """Change the fields passed (the others stay as they are). `actor` is who acts, when it
    is not the user themselves; `user_change_check` decides whether they may (an admin cannot
    deactivate themselves, only a superuser changes another staff member)."""
    changes = changed_fields(first_name=first_name, last_name=last_name, phone=phone, is_active=is_active)
    if actor is not None:
        user_change_check(
            actor=actor,
            user=user,
            changes={name: value for name, value in changes.items() if getattr(user, name) != value},
        )
    for name, value in changes.items():
        setattr(user, name, value)
    if changes:
        user.save(update_fields=list(changes))
        invalidate_key_on_commit(USER_STATS, user.pk)
    return user


def user_logout(*, token: AuthToken) -> None:
    digest = token.digest
    token.delete()
    with contextlib.suppress(Exception):
        cache.delete(token_cache_key(digest))
