"""`manage.py demo_staff`: a superuser by default, or a staff member of the shipped groups."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from users.models import User

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("demo_staff", *args, stdout=out)
    return out.getvalue()


def test_demo_staff_is_a_superuser_by_default():
    assert "(superuser)" in run()
    user = User.objects.get(email="admin@wemoov.test")
    assert (user.is_staff, user.is_superuser, list(user.groups.all())) == (True, True, [])


def test_demo_staff_with_groups_is_a_staff_member_who_may_do_what_they_allow():
    run()
    assert "(staff in Finance, Support)" in run("--group", "Support", "--group", "Finance")
    user = User.objects.get(email="admin@wemoov.test")
    assert (user.is_staff, user.is_superuser) == (True, False)
    assert sorted(user.groups.values_list("name", flat=True)) == ["Finance", "Support"]
    assert user.has_perm("payments.refund_payment")
    assert not user.has_perm("stats.refresh_statistics")
