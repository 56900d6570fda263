"""Writes on users: creation, profile updates, deactivation, tokens."""

from __future__ import annotations

import contextlib

from django.contrib.auth import password_validation
from django.core.cache import cache
from django.db import IntegrityError, transaction
from knox.models import AuthToken
from rest_framework import serializers

from users.authentication import token_cache_key
from users.models import Role, User, UserManager
from wemoov.cache import USER_STATS, invalidate_key_on_commit


def user_auth_cache_forget(*, user_id: int) -> None:
    """Drop every cached token lookup of this user (after the transaction commits), so a
    deactivation, password change or profile edit is seen by the very next request."""
    digests = list(AuthToken.objects.filter(user_id=user_id).values_list("digest", flat=True))

    def forget() -> None:
        # On a cache outage the entries expire on their own within the TTL.
        with contextlib.suppress(Exception):
            cache.delete_many([token_cache_key(d) for d in digests])

    if digests:
        transaction.on_commit(forget)


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
    except Exception as exc:  # django's ValidationError -> DRF field error
        raise serializers.ValidationError({"password": list(getattr(exc, "messages", [str(exc)]))}) from exc
    if User.objects.filter(email=email).exists():
        raise serializers.ValidationError({"email": ["A user with this email already exists."]})
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name, phone=phone, role=role
            )
    except IntegrityError as exc:  # a concurrent registration with the same email
        raise serializers.ValidationError({"email": ["A user with this email already exists."]}) from exc


@transaction.atomic
def user_update(*, user: User, data: dict, actor: User | None = None) -> User:
    """Apply already-validated fields; an admin cannot deactivate themselves."""
    if actor is not None and actor.pk == user.pk and data.get("is_active") is False:
        raise serializers.ValidationError({"is_active": ["You cannot deactivate yourself."]})
    fields = []
    for name, value in data.items():
        setattr(user, name, value)
        fields.append(name)
    if fields:
        user.save(update_fields=fields)
        user_auth_cache_forget(user_id=user.pk)
        invalidate_key_on_commit(USER_STATS, user.pk)
    return user


def user_logout(*, token: AuthToken) -> None:
    digest = token.digest
    token.delete()
    with contextlib.suppress(Exception):
        cache.delete(token_cache_key(digest))


def user_set_password(*, user: User, password: str) -> None:
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    user_auth_cache_forget(user_id=user.pk)
