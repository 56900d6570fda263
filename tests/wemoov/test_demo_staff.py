"""`demo_staff` (run by `make run`): the demo staff password is stable across runs."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from knox.models import AuthToken

from users.models import Role, User

pytestmark = pytest.mark.django_db

EMAIL = "admin@wemoov.test"


def _run(*args: str) -> str:
    out = StringIO()
    call_command("demo_staff", *args, stdout=out)
    return out.getvalue()


def _printed_password(output: str) -> str:
    match = re.search(rf"{re.escape(EMAIL)} / (\S+)", output)
    assert match, output
    return match.group(1)


def test_the_password_is_made_once_printed_once_and_kept(monkeypatch):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    password = _printed_password(_run())
    user = User.objects.get(email=EMAIL)
    assert user.check_password(password)
    assert (user.role, user.is_superuser, user.is_active) == (Role.ADMIN, True, True)
    _, token = AuthToken.objects.create(user=user)

    again = _run()
    assert password not in again
    assert "password unchanged" in again
    user.refresh_from_db()
    assert user.check_password(password)
    assert AuthToken.objects.filter(user=user).count() == 1, "a run that keeps the password keeps the tokens"


def test_a_second_run_restores_staff_rights_and_keeps_the_password(monkeypatch):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    password = _printed_password(_run())
    User.objects.filter(email=EMAIL).update(role=Role.CLIENT, is_staff=False, is_superuser=False, is_active=False)

    _run()
    user = User.objects.get(email=EMAIL)
    assert (user.role, user.is_superuser, user.is_active) == (Role.ADMIN, True, True)
    assert user.check_password(password)


def test_demo_staff_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "Demo-pass-2026!")
    assert _printed_password(_run()) == "Demo-pass-2026!"
    assert User.objects.get(email=EMAIL).check_password("Demo-pass-2026!")
    assert _printed_password(_run()) == "Demo-pass-2026!"

    # Another value replaces the first; --reset never overrides the environment.
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "Other-pass-2026!")
    assert _printed_password(_run("--reset")) == "Other-pass-2026!"
    user = User.objects.get(email=EMAIL)
    assert user.check_password("Other-pass-2026!")
    assert not user.check_password("Demo-pass-2026!")
    assert User.objects.filter(email=EMAIL).count() == 1


def test_reset_makes_a_new_password_and_signs_out_the_old_tokens(monkeypatch):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    first = _printed_password(_run())
    AuthToken.objects.create(user=User.objects.get(email=EMAIL))

    second = _printed_password(_run("--reset"))
    assert second != first
    user = User.objects.get(email=EMAIL)
    assert user.check_password(second)
    assert not user.check_password(first)
    assert AuthToken.objects.filter(user=user).count() == 0
