"""Revocation whatever the path (admin form, `changepassword`, a shell's set_password, the
API, deletion): the very next request with an old token answers 401, reactivating brings
no token back, and a role change applies to the very next request. The cached lookup
keeps a warm request at 0 queries and holds no password hash."""

import pickle

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.management import call_command
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.factories import PASSWORD, ClientFactory, StaffFactory
from tests.admin.conftest import StaffBrowser, login
from users.credentials import token_cache_key
from users.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-Strong-passw0rd!"


def _token_client(user) -> tuple[APIClient, str]:
    api = APIClient()
    _, token = AuthToken.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/users/me/").status_code == 200  # the lookup is now cached
    assert cache.get(token_cache_key(hash_token(token))) is not None
    return api, token


@pytest.fixture
def staff(admin_user) -> StaffBrowser:
    response, client = login(admin_user.email)
    assert response.status_code == 302
    return StaffBrowser(client)


def test_the_cached_entry_holds_no_password_hash(client_user):
    _, token = _token_client(client_user)
    raw = pickle.dumps(cache.get(token_cache_key(hash_token(token))))
    assert client_user.password.encode() not in raw
    assert b"md5$" not in raw
    assert b"password" not in raw


def test_a_warm_request_costs_no_query_and_its_user_cannot_blank_the_password(
    client_user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    api, _ = _token_client(client_user)
    with django_assert_num_queries(1):  # the list only: authentication came from the cache
        assert api.get("/api/bookings/?page_size=1").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch("/api/users/me/", {"first_name": "Kept"}, format="json").status_code == 200
    assert User.objects.get(pk=client_user.pk).check_password(PASSWORD)


def test_admin_password_form_revokes_every_token(staff, client_user, django_capture_on_commit_callbacks):
    api, _ = _token_client(client_user)
    url = f"/admin/users/user/{client_user.pk}/password/"
    assert staff.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content[:300]
    assert api.get("/api/users/me/").status_code == 401
    assert not AuthToken.objects.filter(user=client_user).exists()


def test_admin_change_form_deactivation_and_role_change(staff, client_user, django_capture_on_commit_callbacks):
    driver_api, _ = _token_client(client_user)
    form = {
        "email": client_user.email,
        "first_name": client_user.first_name,
        "last_name": client_user.last_name,
        "phone": client_user.phone,
        "role": "driver",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
    }
    url = f"/admin/users/user/{client_user.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    me = driver_api.get("/api/users/me/")
    assert me.status_code == 200
    assert me.json()["role"] == "driver", "the role applies to the very next request"
    assert driver_api.post("/api/bookings/", {}, format="json").status_code == 403  # no longer a client
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, {**form, "is_active": ""})
    assert response.status_code == 302
    assert driver_api.get("/api/users/me/").status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, form)
    assert User.objects.get(pk=client_user.pk).is_active
    assert driver_api.get("/api/users/me/").status_code == 401, "reactivation brings no token back"


def test_demoting_an_admin_closes_the_admin_api_at_once(admin_user, django_capture_on_commit_callbacks):
    other = StaffFactory(email="boss2@example.com", permissions=["users.view_user"])
    api, _ = _token_client(other)
    assert api.get("/api/users/").status_code == 200
    other.role = "client"
    with django_capture_on_commit_callbacks(execute=True):
        other.save()
    assert api.get("/api/users/").status_code == 403


def test_changepassword_command_revokes(client_user, monkeypatch, django_capture_on_commit_callbacks):
    api, _ = _token_client(client_user)
    answers = iter([NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("changepassword", client_user.email)
    assert User.objects.get(pk=client_user.pk).check_password(NEW_PASSWORD)
    assert api.get("/api/users/me/").status_code == 401


def test_set_password_in_a_shell_revokes(client_user, django_capture_on_commit_callbacks):
    api, _ = _token_client(client_user)
    user = User.objects.get(pk=client_user.pk)
    user.set_password(NEW_PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    assert api.get("/api/users/me/").status_code == 401
    fresh = APIClient().post("/api/auth/token/", {"email": user.email, "password": NEW_PASSWORD}, format="json")
    assert fresh.status_code == 200


def test_a_rehash_on_login_revokes_nothing(client_user, settings, django_capture_on_commit_callbacks):
    """Django upgrading a hash at login (check_password's setter) is not a password change."""
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    User.objects.filter(pk=client_user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    api, _ = _token_client(client_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert User.objects.get(pk=client_user.pk).check_password(PASSWORD)
    assert User.objects.get(pk=client_user.pk).password.startswith("md5$"), "the hash was upgraded"
    assert api.get("/api/users/me/").status_code == 200


def test_api_deactivation_then_reactivation_does_not_revive_tokens(
    client_user, as_admin, django_capture_on_commit_callbacks
):
    api, _ = _token_client(client_user)
    with django_capture_on_commit_callbacks(execute=True):
        as_admin.patch(f"/api/users/{client_user.pk}/", {"is_active": False}, format="json")
    assert api.get("/api/users/me/").status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        assert as_admin.patch(f"/api/users/{client_user.pk}/", {"is_active": True}, format="json").status_code == 200
    assert api.get("/api/users/me/").status_code == 401


def test_deleting_a_user_in_the_admin_revokes(staff, django_capture_on_commit_callbacks):
    user = ClientFactory(email="leaving@example.com")
    api, _ = _token_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/admin/users/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert api.get("/api/users/me/").status_code == 401


def test_deleting_through_a_queryset_revokes(django_capture_on_commit_callbacks):
    user = ClientFactory(email="script@example.com")
    api, _ = _token_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.filter(pk=user.pk).delete()
    assert api.get("/api/users/me/").status_code == 401


def test_a_lookup_cached_just_after_a_revocation_is_not_believed(client_user, django_capture_on_commit_callbacks):
    """The race of a request that read the token before the change and caches it after."""
    from users import credentials

    api, token = _token_client(client_user)
    digest = hash_token(token)
    stale_user, stale_token = credentials.recall(digest)  # what that request had read
    with django_capture_on_commit_callbacks(execute=True):
        client_user.role = "driver"
        client_user.save()
    credentials.remember(digest, stale_user, stale_token, ttl=60)  # ... and writes it late
    assert cache.get(token_cache_key(digest)) is None
    assert api.get("/api/users/me/").json()["role"] == "driver"
