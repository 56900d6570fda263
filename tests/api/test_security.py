"""Nobody gets in where they don't belong, and nobody writes what they may not."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from demo.factories import PASSWORD, ClientFactory, DriverFactory
from users.models import User

pytestmark = pytest.mark.django_db


def test_admin_cannot_promote_through_the_api_and_is_told_so(as_admin, client_user):
    last_name = client_user.last_name
    response = as_admin.patch(
        f"/api/users/{client_user.pk}/",
        {"role": "admin", "is_staff": True, "is_superuser": True, "email": "new@example.com", "last_name": "Ok"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"role", "is_staff", "is_superuser"}
    client_user.refresh_from_db()
    assert (client_user.role, client_user.is_staff, client_user.is_superuser) == ("client", False, False)
    assert (client_user.email, client_user.last_name) == ("client@example.com", last_name)


def test_admin_cannot_rename_through_the_api(as_admin, client_user):
    response = as_admin.patch(
        f"/api/users/{client_user.pk}/", {"email": "new@example.com", "last_name": "Ok"}, format="json"
    )
    assert response.status_code == 200
    client_user.refresh_from_db()
    assert (client_user.email, client_user.last_name) == ("client@example.com", "Ok")


def test_registration_ignores_staff_flags():
    response = APIClient().post(
        "/api/auth/register/",
        {
            "email": "sneaky@example.com",
            "password": PASSWORD,
            "first_name": "S",
            "last_name": "N",
            "is_staff": True,
            "is_superuser": True,
        },
        format="json",
    )
    assert response.status_code == 201
    sneaky = User.objects.get(email="sneaky@example.com")
    assert (sneaky.role, sneaky.is_staff, sneaky.is_superuser) == ("client", False, False)


def test_driver_cannot_change_their_rating_or_license(as_driver, driver):
    license_before = driver.license_number
    assert (driver.rating, license_before) != (None, "X")
    response = as_driver.patch(
        "/api/drivers/me/", {"is_available": False, "rating": "5.00", "license_number": "X"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["license_number"]) == (None, license_before)
    driver.refresh_from_db()
    assert (driver.is_available, driver.rating, driver.license_number) == (False, None, license_before)


@pytest.mark.parametrize("make_user", [ClientFactory, lambda: DriverFactory().user])
def test_the_admin_is_closed_to_non_staff(client, make_user):
    user = make_user()
    client.force_login(user)
    for url in (reverse("admin:index"), reverse("admin:bookings_booking_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]
    assert client.post(reverse("admin:stats_refresh")).status_code == 302


def test_registration_shares_the_tight_auth_throttle(monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    api = APIClient()
    body = {"email": "x@example.com", "password": "short", "first_name": "A", "last_name": "B"}
    statuses = [api.post("/api/auth/register/", body, format="json").status_code for _ in range(2)]
    statuses.append(
        api.post("/api/auth/token/", {"email": "x@example.com", "password": "y"}, format="json").status_code
    )
    assert statuses == [400, 400, 429]


def test_no_secret_has_a_production_default(monkeypatch):
    import subprocess
    import sys

    env = {"DEBUG": "0", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "wemoov.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
