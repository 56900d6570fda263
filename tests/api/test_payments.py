from datetime import timedelta

import pytest
from django.utils import timezone

from demo.factories import BookingFactory, PaymentFactory
from payments.models import Payment
from wemoov.idempotency import idempotency_purge
from wemoov.models import IdempotencyRecord, IdempotencyState

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(client_user, driver):
    return BookingFactory(user=client_user, driver=driver, status="completed")


def _pay(api, booking, key=None, method="card"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post("/api/payments/", {"booking": booking.pk, "method": method}, format="json", **headers)


def test_payment_amount_is_the_booking_price(as_client, booking):
    response = _pay(as_client, booking)
    assert response.status_code == 201
    assert response.json()["amount"] == str(booking.price)
    assert response.json()["status"] == "pending"


def test_client_cannot_set_amount_or_status(as_client, booking):
    response = as_client.post(
        "/api/payments/",
        {"booking": booking.pk, "method": "cash", "amount": "1.00", "status": "completed"},
        format="json",
    )
    assert response.status_code == 201
    assert Payment.objects.get().amount == booking.price
    assert Payment.objects.get().status == "pending"


def test_someone_elses_booking_is_a_400_on_booking(as_other_client, booking):
    response = _pay(as_other_client, booking)
    assert response.status_code == 400
    assert "booking" in response.json()


def test_unknown_booking_gets_the_same_400(as_client):
    response = as_client.post("/api/payments/", {"booking": 999_999, "method": "card"}, format="json")
    assert response.status_code == 400
    assert "booking" in response.json()


def test_cancelled_booking_is_409_booking_cancelled(as_client, client_user):
    booking = BookingFactory(user=client_user, status="cancelled")
    response = _pay(as_client, booking)
    assert (response.status_code, response.json()["code"]) == (409, "booking_cancelled")


def test_paid_booking_is_409_already_paid(as_client, booking):
    PaymentFactory(booking=booking, status="completed")
    response = _pay(as_client, booking)
    assert (response.status_code, response.json()["code"]) == (409, "already_paid")


def test_several_pending_payments_may_exist(as_client, booking):
    assert _pay(as_client, booking).status_code == 201
    assert _pay(as_client, booking).status_code == 201
    assert Payment.objects.filter(booking=booking, status="pending").count() == 2


def test_confirming_a_second_payment_of_a_paid_booking_is_409_already_paid(as_admin, booking):
    PaymentFactory(booking=booking, status="completed")
    pending = PaymentFactory(booking=booking)
    response = as_admin.post(f"/api/payments/{pending.pk}/confirm/")
    assert (response.status_code, response.json()["code"]) == (409, "already_paid")
    assert Payment.objects.get(pk=pending.pk).status == "pending"


@pytest.mark.parametrize(
    ("status", "action", "expected_status", "expected_code"),
    [
        ("pending", "confirm", 200, None),
        ("pending", "fail", 200, None),
        ("completed", "refund", 200, None),
        ("completed", "confirm", 409, "invalid_transition"),
        ("failed", "confirm", 409, "invalid_transition"),
        ("pending", "refund", 409, "invalid_transition"),
        ("refunded", "refund", 409, "invalid_transition"),
    ],
)
def test_payment_transitions(as_admin, booking, status, action, expected_status, expected_code):
    payment = PaymentFactory(booking=booking, status=status)
    response = as_admin.post(f"/api/payments/{payment.pk}/{action}/")
    assert response.status_code == expected_status
    if expected_code:
        assert response.json()["code"] == expected_code


def test_refunded_payments_do_not_count_as_spent(as_admin, as_client, booking, django_capture_on_commit_callbacks):
    payment = PaymentFactory(booking=booking, status="completed")
    assert as_client.get("/api/users/me/").json()["stats"]["total_spent"] == str(booking.price)
    with django_capture_on_commit_callbacks(execute=True):  # the refund's cache invalidation
        as_admin.post(f"/api/payments/{payment.pk}/refund/")
    assert as_client.get("/api/users/me/").json()["stats"]["total_spent"] == "0.00"


# --- Idempotency-Key ----------------------------------------------------------------------
def test_retry_with_same_key_and_body_replays_the_first_response(as_client, booking):
    first = _pay(as_client, booking, key="k-1")
    second = _pay(as_client, booking, key="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_same_key_with_another_body_is_422(as_client, booking):
    _pay(as_client, booking, key="k-2")
    response = _pay(as_client, booking, key="k-2", method="cash")
    assert response.status_code == 422
    assert Payment.objects.count() == 1


def test_keys_are_per_user(as_client, booking, other_client_user):
    from tests.conftest import client_for

    other_booking = BookingFactory(user=other_client_user)
    _pay(as_client, booking, key="shared")
    assert _pay(client_for(other_client_user), other_booking, key="shared").status_code == 201
    assert Payment.objects.count() == 2


def test_first_attempt_that_failed_validation_does_not_hold_the_key(as_client, booking):
    bad = as_client.post(
        "/api/payments/", {"booking": booking.pk, "method": "gold"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert (
        as_client.post(
            "/api/payments/", {"booking": booking.pk, "method": "card"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
        ).status_code
        == 201
    )


def test_a_refused_first_attempt_does_not_hold_the_key(as_client, client_user):
    booking = BookingFactory(user=client_user, status="cancelled")
    assert _pay(as_client, booking, key="k-4").status_code == 409
    assert not IdempotencyRecord.objects.exists()


def test_retry_while_the_first_is_in_flight_is_409_request_in_progress(as_client, booking, client_user):
    from wemoov.idempotency import fingerprint

    digest = fingerprint("POST", "/api/payments/", {"booking": booking.pk, "method": "card"})
    IdempotencyRecord.objects.create(
        user=client_user, key="k-5", method="POST", path="/api/payments/", fingerprint=digest
    )
    response = _pay(as_client, booking, key="k-5")
    assert (response.status_code, response.json()["code"]) == (409, "request_in_progress")
    assert not Payment.objects.exists()


def test_key_longer_than_255_characters_is_400(as_client, booking):
    response = _pay(as_client, booking, key="x" * 256)
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_records_expire_after_24_hours(as_client, booking):
    _pay(as_client, booking, key="k-6")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert _pay(as_client, booking, key="k-6").status_code == 201  # a new request, not a replay
    assert Payment.objects.count() == 2
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge() == 1
    assert not IdempotencyRecord.objects.exists()


def test_abandoned_in_progress_record_releases_the_key(as_client, booking, client_user):
    IdempotencyRecord.objects.create(
        user=client_user,
        key="k-7",
        method="POST",
        path="/api/payments/",
        fingerprint="0" * 64,
        state=IdempotencyState.IN_PROGRESS,
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert _pay(as_client, booking, key="k-7").status_code == 201


def test_payments_filters(as_admin, booking):
    card = PaymentFactory(booking=booking, method="card", status="failed")
    cash = PaymentFactory(booking=booking, method="cash", status="completed")
    ids = lambda q: [p["id"] for p in as_admin.get(f"/api/payments/?{q}").json()["results"]]  # noqa: E731
    assert ids("method=card") == [card.pk]
    assert ids("status=completed") == [cash.pk]
