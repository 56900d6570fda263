"""Issue 17's findings in the API, retried as they were found, and the finer points of
StaffPermission: a field that needs a permission of its own, HEAD and OPTIONS, 405 before 403."""

from __future__ import annotations

import pytest

from demo.factories import BookingFactory, ClientFactory, PaymentFactory, StaffFactory, VehicleFactory
from payments.models import Payment
from tests.conftest import client_for
from users.models import User
from wemoov.cache import family_version

pytestmark = pytest.mark.django_db


def staff_api(*permissions: str, **fields):
    return client_for(StaffFactory(**{"email": "limited@example.com", **fields}, permissions=list(permissions)))


def test_staff_without_permissions_cannot_deactivate_a_superuser(admin_user):
    response = staff_api().patch(f"/api/users/{admin_user.pk}/", {"is_active": False}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert User.objects.get(pk=admin_user.pk).is_active


def test_staff_without_permissions_cannot_refund_a_payment():
    vehicle = VehicleFactory()
    booking = BookingFactory(status="completed", driver=vehicle.driver, vehicle=vehicle)
    payment = PaymentFactory(booking=booking, status="completed")
    assert staff_api().post(f"/api/payments/{payment.pk}/refund/").status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == "completed"


def test_is_active_needs_deactivate_user_and_the_profile_change_user():
    client = ClientFactory(first_name="Ama")
    url = f"/api/users/{client.pk}/"
    editor = staff_api("users.change_user")
    assert editor.patch(url, {"is_active": False}, format="json").status_code == 403
    assert editor.patch(url, {"first_name": "Efua", "is_active": False}, format="json").status_code == 403
    client.refresh_from_db()
    assert (client.first_name, client.is_active) == ("Ama", True)
    assert editor.patch(url, {"first_name": "Efua"}, format="json").status_code == 200

    deactivator = staff_api("users.deactivate_user", email="deactivator@example.com")
    assert deactivator.patch(url, {"first_name": "Abena"}, format="json").status_code == 403
    assert deactivator.patch(url, {"is_active": False}, format="json").status_code == 200
    client.refresh_from_db()
    assert (client.first_name, client.is_active) == ("Efua", False)


def test_both_permissions_change_both():
    client = ClientFactory()
    both = staff_api("users.change_user", "users.deactivate_user")
    response = both.patch(f"/api/users/{client.pk}/", {"first_name": "Kojo", "is_active": False}, format="json")
    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["is_active"]) == ("Kojo", False)


def test_metrics_need_view_statistics():
    assert staff_api().get("/metrics").status_code == 403
    assert staff_api("stats.view_statistics", email="reader@example.com").get("/metrics").status_code == 200


def test_staff_without_refresh_statistics_cannot_clear_the_statistics():
    version = family_version("dashboard")
    assert staff_api("stats.view_statistics").post("/api/stats/refresh/").status_code == 403
    assert family_version("dashboard") == version


def test_head_is_gets_and_options_any_staff_members():
    assert staff_api("users.view_user").head("/api/users/").status_code == 200
    nobody = staff_api(email="nobody@example.com")
    assert nobody.head("/api/users/").status_code == 403
    assert nobody.options("/api/users/").status_code == 200


def test_a_method_the_endpoint_does_not_serve_is_405_even_for_a_superuser(as_admin, client_user):
    assert as_admin.put(f"/api/users/{client_user.pk}/", {"first_name": "X"}, format="json").status_code == 405
    assert staff_api().delete(f"/api/users/{client_user.pk}/").status_code == 405
