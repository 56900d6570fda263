"""A staff member's permissions travel with the cached token lookup (users.credentials): a
warm staff request stays at 0 queries and one cache read, and any change of their groups or
permissions, from either side of the relation, applies to the very next request (API and
admin)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.factories import StaffFactory, permissions_named
from tests.admin.conftest import login
from users.credentials import token_cache_key
from wemoov import cache as wcache

pytestmark = pytest.mark.django_db

USERS = "/api/users/?page_size=1"


class RecordingCache:
    """Delegates to the real cache, recording each call made on it."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        method = getattr(self.real, name)

        def recorded(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return recorded


def token_client(user) -> tuple[APIClient, str]:
    api = APIClient()
    _, token = AuthToken.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api, token


@pytest.fixture
def support():
    return Group.objects.get(name="Support")


@pytest.fixture
def member(support):
    return StaffFactory(email="member@example.com", groups=[support])


def test_a_warm_staff_request_costs_no_query_and_one_cache_read(member, django_assert_num_queries, monkeypatch):
    api, token = token_client(member)
    # Cold: knox's token with its user and the user's other tokens, then the two reads of
    # their permissions (their own, their groups'), then the list.
    with django_assert_num_queries(5):
        assert api.get(USERS).status_code == 200
    assert cache.get(token_cache_key(hash_token(token)))["permissions"] == sorted(member.get_all_permissions())
    recorder = RecordingCache(wcache.cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    with django_assert_num_queries(1):  # warm: only the list; has_perm reads the cached set
        assert api.get(USERS).status_code == 200
    assert recorder.calls == ["get_many"]  # the token lookup (with the statistics' versions)


def test_a_superusers_entry_carries_no_permissions(admin_user):
    api, token = token_client(admin_user)
    assert api.get(USERS).status_code == 200
    assert cache.get(token_cache_key(hash_token(token)))["permissions"] is None


def _changes(member, support):
    """Ways a staff member loses users.view_user, each from another side of the relations."""
    view_user = Permission.objects.get(codename="view_user")
    return {
        "user.groups.remove": lambda: member.groups.remove(support),
        "user.groups.clear": lambda: member.groups.clear(),
        "group.user_set.remove": lambda: support.user_set.remove(member),
        "group.user_set.clear": lambda: support.user_set.clear(),
        "group.permissions.remove": lambda: support.permissions.remove(view_user),
        "group.permissions.clear": lambda: support.permissions.clear(),
        "permission.group_set.remove": lambda: view_user.group_set.remove(support),
        "permission.group_set.clear": lambda: view_user.group_set.clear(),
        "group deleted": lambda: support.delete(),
        "permission deleted": lambda: view_user.delete(),
    }


@pytest.mark.parametrize(
    "how",
    [
        "user.groups.remove",
        "user.groups.clear",
        "group.user_set.remove",
        "group.user_set.clear",
        "group.permissions.remove",
        "group.permissions.clear",
        "permission.group_set.remove",
        "permission.group_set.clear",
        "group deleted",
        "permission deleted",
    ],
)
def test_a_permission_taken_away_through_a_group_applies_to_the_next_request(
    member, support, how, django_capture_on_commit_callbacks
):
    api, _ = token_client(member)
    assert api.get(USERS).status_code == 200
    assert api.get(USERS).status_code == 200  # served from the cached lookup
    with django_capture_on_commit_callbacks(execute=True):
        _changes(member, support)[how]()
    assert api.get(USERS).status_code == 403


@pytest.mark.parametrize(
    "how",
    ["user.groups.add", "group.user_set.add", "group.permissions.add", "permission.group_set.add", "user_permissions"],
)
def test_a_permission_given_applies_to_the_next_request(how, django_capture_on_commit_callbacks):
    finance = Group.objects.get(name="Finance")
    member = StaffFactory(email="newcomer@example.com", permissions=["users.view_user"])
    refresh = Permission.objects.get(codename="refresh_statistics")
    api, _ = token_client(member)
    assert api.post("/api/stats/refresh/").status_code == 403
    assert api.post("/api/stats/refresh/").status_code == 403  # from the cached lookup
    give = {
        "user.groups.add": lambda: member.groups.add(Group.objects.get(name="Operations")),
        "group.user_set.add": lambda: Group.objects.get(name="Operations").user_set.add(member),
        "group.permissions.add": lambda: (finance.permissions.add(refresh), member.groups.add(finance)),
        "permission.group_set.add": lambda: (member.groups.add(finance), refresh.group_set.add(finance)),
        "user_permissions": lambda: member.user_permissions.add(refresh),
    }[how]
    with django_capture_on_commit_callbacks(execute=True):
        give()
    assert api.post("/api/stats/refresh/").status_code == 204


def test_the_tokens_of_everyone_else_stay_cached(member, support, django_capture_on_commit_callbacks):
    other = StaffFactory(email="bystander@example.com", permissions=["users.view_user"])
    _, token = token_client(other)
    APIClient(headers={"Authorization": f"Token {token}"}).get(USERS)
    key = token_cache_key(hash_token(token))
    assert cache.get(key) is not None
    with django_capture_on_commit_callbacks(execute=True):
        support.permissions.remove(*permissions_named(["users.view_user"]))
    assert cache.get(key) is not None


def test_the_admin_follows_a_groups_permissions_at_the_next_request(member, support):
    _, browser = login(member.email)
    assert browser.get("/admin/users/user/").status_code == 200
    support.permissions.remove(*permissions_named(["users.view_user"]))
    assert browser.get("/admin/users/user/").status_code == 403
    support.permissions.add(*permissions_named(["users.view_user"]))
    assert browser.get("/admin/users/user/").status_code == 200
