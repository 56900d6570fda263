"""Real concurrent threads against PostgreSQL: each race has exactly one winner and the
database stays consistent. A query wrapper slows every `SELECT ... FOR UPDATE` down so the
threads really overlap inside the critical section instead of running one after the other."""

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from knox.models import AuthToken
from rest_framework.test import APIClient

from bookings.models import Booking
from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from payments.models import Payment
from users.models import Role, User
from wemoov.models import IdempotencyRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _slow_locks(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if "FOR UPDATE" in sql or 'INSERT INTO "wemoov_idempotencyrecord"' in sql:
        time.sleep(0.05)
    return result


@contextmanager
def _slowed():
    with connection.execute_wrapper(_slow_locks):
        yield


def _race(calls):
    """Run the callables at the same instant, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            with _slowed():
                barrier.wait()
                results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _token_client(user) -> APIClient:
    api = APIClient()
    _, token = AuthToken.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_two_drivers_accepting_at_once_one_wins_every_time():
    client = ClientFactory()
    drivers = [DriverFactory(), DriverFactory()]
    for driver in drivers:
        VehicleFactory(driver=driver)
    apis = [_token_client(d.user) for d in drivers]
    for _ in range(5):
        booking = BookingFactory(user=client)
        responses = _race([lambda api=api, pk=booking.pk: api.post(f"/api/bookings/{pk}/accept/") for api in apis])
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.content for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "already_taken"
        winner = next(r for r in responses if r.status_code == 200)
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert booking.driver_id == winner.json()["driver"]


def test_same_payment_confirmed_twice_at_once_completes_once():
    admin = User.objects.create_user(email="a@example.com", password="x", role=Role.ADMIN)
    payment = PaymentFactory()
    apis = [_token_client(admin), _token_client(admin)]
    responses = _race([lambda api=api: api.post(f"/api/payments/{payment.pk}/confirm/") for api in apis])
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert Payment.objects.get(pk=payment.pk).status == "completed"


def test_two_pending_payments_of_one_booking_confirmed_at_once_only_one_completes():
    admin = User.objects.create_user(email="a@example.com", password="x", role=Role.ADMIN)
    booking = BookingFactory()
    payments = [PaymentFactory(booking=booking), PaymentFactory(booking=booking)]
    apis = [_token_client(admin), _token_client(admin)]
    responses = _race(
        [lambda api=api, p=p: api.post(f"/api/payments/{p.pk}/confirm/") for api, p in zip(apis, payments, strict=True)]
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert next(r for r in responses if r.status_code == 409).json()["code"] == "already_paid"
    assert Payment.objects.filter(booking=booking, status="completed").count() == 1


def test_concurrent_retries_with_one_idempotency_key_create_one_payment():
    client = ClientFactory()
    booking = BookingFactory(user=client)
    apis = [_token_client(client) for _ in range(3)]
    body = {"booking": booking.pk, "method": "card"}
    responses = _race(
        [lambda api=api: api.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-1") for api in apis]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "request_in_progress"
    created = [r.json()["id"] for r in responses if r.status_code == 201]
    assert len(set(created)) == 1
    assert Payment.objects.filter(booking=booking).count() == 1
    assert IdempotencyRecord.objects.get().state == "done"


def test_concurrent_ratings_update_the_driver_mean_atomically():
    driver = DriverFactory()
    bookings = [BookingFactory(driver=driver, status="completed") for _ in range(4)]
    apis = [_token_client(b.user) for b in bookings]
    ratings = [5, 4, 3, 2]
    responses = _race(
        [
            lambda api=api, b=b, r=r: api.post(f"/api/bookings/{b.pk}/rate/", {"rating": r}, format="json")
            for api, b, r in zip(apis, bookings, ratings, strict=True)
        ]
    )
    assert [r.status_code for r in responses] == [200] * 4
    driver.refresh_from_db()
    assert (driver.rating_count, driver.rating_total, str(driver.rating)) == (4, 14, "3.50")
    assert Booking.objects.filter(driver=driver, rating__isnull=False).count() == 4
