"""Writes on users: creation, profile updates, deactivation, tokens."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from users.credentials import token_cache_key
from users.models import Role, User, UserManager
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import InvalidInput
from wemoov.services import UNCHANGED, changed_fields

EMAIL_TAKEN = "A user with this email already exists."


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
    """Change the fields passed (the others stay as they are); an admin cannot deactivate
    themselves. `actor` is who acts, when it is not the user themselves."""
    if actor is not None and actor.pk == user.pk and is_active is False:
        raise InvalidInput.on("is_active", "You cannot deactivate yourself.")
    changes = changed_fields(first_name=first_name, last_name=last_name, phone=phone, is_active=is_active)
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
