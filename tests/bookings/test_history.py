"""Every booking transition writes its history row (who, from, to, through what) in the
transition's own transaction; creation writes none; a refused transition writes none."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from bookings import services
from bookings.models import BookingTransition
from demo.factories import BookingFactory, booking_request
from payments.services import booking_cancel_and_settle
from wemoov.errors import InvalidTransition, NotPermitted

pytestmark = pytest.mark.django_db


def _history(booking):
    return [(t.from_status, t.to_status, t.actor_email, t.via) for t in booking.transitions.order_by("id")]


def test_a_whole_lifecycle_is_recorded_with_actor_and_channel(client_user, driver, admin_user):
    booking = BookingFactory(user=client_user)
    services.booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")
    services.booking_start(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")
    services.booking_complete(booking_id=booking.pk, driver=driver, actor=driver.user, via="command")
    email = driver.user.email
    assert _history(booking) == [
        ("pending", "confirmed", email, "api"),
        ("confirmed", "in_progress", email, "api"),
        ("in_progress", "completed", email, "command"),
    ]


def test_assign_and_cancel_are_recorded(client_user, driver, admin_user):
    booking = BookingFactory(user=client_user)
    services.booking_assign(booking_id=booking.pk, driver=driver, actor=admin_user, via="admin")
    booking_cancel_and_settle(booking_id=booking.pk, actor=client_user, via="api", reason="changed plans")
    assert _history(booking) == [
        ("pending", "confirmed", "admin@example.com", "admin"),
        ("confirmed", "cancelled", "client@example.com", "api"),
    ]


def test_creation_records_nothing(client_user, django_assert_num_queries):
    api = APIClient()
    api.force_authenticate(client_user)
    with django_assert_num_queries(3):  # unchanged by the history: SAVEPOINT, INSERT, RELEASE
        response = api.post("/api/bookings/", booking_request(), format="json")
    assert response.status_code == 201
    assert not BookingTransition.objects.exists()


def test_a_refused_transition_records_nothing(client_user, driver):
    booking = BookingFactory(user=client_user)
    with pytest.raises(NotPermitted):
        services.booking_start(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")
    booking.driver = driver
    booking.save()
    with pytest.raises(InvalidTransition):
        services.booking_start(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")
    assert not BookingTransition.objects.exists()


def test_the_history_row_is_part_of_the_transitions_transaction(client_user, driver):
    booking = BookingFactory(user=client_user)

    @transaction.atomic
    def accept_then_fail():
        services.booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")
        raise RuntimeError("the caller's transaction fails after the transition")

    with pytest.raises(RuntimeError):
        accept_then_fail()
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert not BookingTransition.objects.exists()


def test_the_history_keeps_the_email_after_the_actor_is_gone(client_user, admin_user):
    from demo.factories import AdminFactory

    staff = AdminFactory(email="gone@example.com")
    booking = BookingFactory(user=client_user)
    booking_cancel_and_settle(booking_id=booking.pk, actor=staff, via="admin")
    staff.delete()
    row = BookingTransition.objects.get(booking=booking)
    assert (row.actor_id, row.actor_email) == (None, "gone@example.com")
