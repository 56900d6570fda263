from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.factories import PASSWORD, ClientFactory
from fleet.models import Driver
from tests.conftest import client_for
from users.credentials import token_cache_key
from users.models import User

pytestmark = pytest.mark.django_db


def _register(**overrides):
    body = {"email": "new@example.com", "password": PASSWORD, "first_name": "N", "last_name": "U"} | overrides
    return APIClient().post("/api/auth/register/", body, format="json")


def test_register_returns_the_user_without_password():
    response = _register(phone="+225 05")
    assert response.status_code == 201
    assert set(response.json()) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "role",
        "is_active",
        "created_at",
    }


def test_register_driver_creates_a_driver_profile():
    response = _register(role="driver", license_number="L-1")
    assert response.status_code == 201
    assert Driver.objects.get(user_id=response.json()["id"]).license_number == "L-1"


def test_register_driver_without_license_is_400_and_writes_nothing():
    response = _register(role="driver")
    assert response.status_code == 400
    assert "license_number" in response.json()
    assert not User.objects.exists()


def test_register_with_a_taken_license_writes_no_user():
    assert _register(role="driver", license_number="L-2").status_code == 201
    response = _register(email="second@example.com", role="driver", license_number="L-2")
    assert response.status_code == 400
    assert not User.objects.filter(email="second@example.com").exists()


def test_nobody_becomes_admin_through_registration():
    response = _register(role="admin")
    assert response.status_code == 400
    assert "role" in response.json()


def test_emails_are_unique_regardless_of_case():
    ClientFactory(email="taken@example.com")
    response = _register(email="TAKEN@Example.com")
    assert response.status_code == 400
    assert "email" in response.json()


def test_weak_password_is_refused():
    response = _register(password="123")
    assert response.status_code == 400
    assert "password" in response.json()


def test_login_returns_token_and_expiry(client_user):
    response = APIClient().post(
        "/api/auth/token/", {"email": "CLIENT@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    expiry = response.json()["expiry"]
    assert expiry.endswith("Z")
    assert AuthToken.objects.get().digest != response.json()["token"]  # stored hashed


def test_bad_credentials_are_400(client_user):
    response = APIClient().post("/api/auth/token/", {"email": "client@example.com", "password": "nope"}, format="json")
    assert response.status_code == 400


def test_inactive_user_cannot_log_in(client_user):
    User.objects.filter(pk=client_user.pk).update(is_active=False)
    response = APIClient().post(
        "/api/auth/token/", {"email": "client@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400


def test_expired_token_is_401(client_user):
    api = client_for(client_user)
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/users/me/").status_code == 401


def test_a_token_expiring_while_its_lookup_is_cached_is_401(client_user, monkeypatch):
    """The cached lookup is kept for at most the seconds the token had left, rounded down,
    and checked against the clock again when served: a token expired meanwhile is refused
    even while its lookup is still in the cache."""
    _, raw = AuthToken.objects.create(user=client_user, expiry=timedelta(seconds=30))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/users/me/").status_code == 200  # caches the lookup for up to 30 s
    digest = AuthToken.objects.get(user=client_user).digest
    assert cache.get(token_cache_key(digest)) is not None
    later = timezone.now() + timedelta(seconds=31)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the cache's own clocks do not move
    assert cache.get(token_cache_key(digest)) is not None  # still warm when the request comes
    assert api.get("/api/users/me/").status_code == 401


def test_logout_stops_the_token_at_once_even_when_its_lookup_was_cached(client_user):
    api = client_for(client_user)
    assert api.get("/api/users/me/").status_code == 200  # caches the lookup
    assert api.post("/api/auth/logout/").status_code == 204
    assert api.get("/api/users/me/").status_code == 401


def test_warm_token_lookup_costs_no_query(client_user, django_assert_num_queries):
    api = client_for(client_user)
    # Cold: knox reads the token with its user, then the user's other tokens; then the list.
    with django_assert_num_queries(3):
        assert api.get("/api/bookings/?page_size=1").status_code == 200
    with django_assert_num_queries(1):  # warm: only the list itself
        assert api.get("/api/bookings/?page_size=1").status_code == 200


def test_deactivation_locks_the_user_out_at_once(client_user, as_admin, django_capture_on_commit_callbacks):
    api = client_for(client_user)
    assert api.get("/api/users/me/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert as_admin.patch(f"/api/users/{client_user.pk}/", {"is_active": False}, format="json").status_code == 200
    assert api.get("/api/users/me/").status_code == 401


def test_admin_cannot_deactivate_themselves(as_admin, admin_user):
    response = as_admin.patch(f"/api/users/{admin_user.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 400
    assert User.objects.get(pk=admin_user.pk).is_active


def test_me_patch_ignores_other_keys(as_client, client_user):
    response = as_client.patch(
        "/api/users/me/", {"first_name": "Zoe", "role": "admin", "is_active": False, "email": "x@y.z"}, format="json"
    )
    assert response.status_code == 200
    client_user.refresh_from_db()
    assert (client_user.first_name, client_user.role, client_user.is_active) == ("Zoe", "client", True)
    assert client_user.email == "client@example.com"


def test_me_patch_is_seen_by_the_next_request(as_client, django_capture_on_commit_callbacks):
    as_client.get("/api/users/me/")
    with django_capture_on_commit_callbacks(execute=True):
        as_client.patch("/api/users/me/", {"last_name": "Fresh"}, format="json")
    assert as_client.get("/api/users/me/").json()["last_name"] == "Fresh"


def test_users_filters_and_search(as_admin, client_user, driver):
    ids = lambda q: {u["id"] for u in as_admin.get(f"/api/users/?{q}").json()["results"]}  # noqa: E731
    assert ids("role=driver") == {driver.user_id}
    assert ids("search=client@") == {client_user.pk}
    assert client_user.pk in ids("is_active=true")


def test_createsuperuser_noinput_makes_an_admin(monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--noinput")
    boss = User.objects.get(email="boss@example.com")
    assert (boss.role, boss.is_staff, boss.is_superuser) == ("admin", True, True)
