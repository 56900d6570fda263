"""Real concurrent threads against PostgreSQL: each race has exactly one winner and the
database stays consistent.

The threads overlap by construction, not by luck: each one stops at the statement that reads
the contended row (whether or not that statement locks it) until all have arrived, runs it,
then waits until every other thread has run it too or is blocked behind a lock in
PostgreSQL. With the lock, one thread holds the row and the others queue behind it; without
it, every thread has read the same old row before any writes, and the race is lost for sure.
"""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections
from knox.models import AuthToken
from rest_framework.test import APIClient

from bookings.models import Booking
from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, StaffFactory, VehicleFactory
from payments.models import Payment
from wemoov.models import IdempotencyRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20  # seconds; only reached when the threads never meet (a failure)


def reads(table: str) -> Callable[[str], bool]:
    """The first SELECT from `table` inside a transaction: the service's read of the row it
    changes, `FOR UPDATE` or not (the view's earlier lookup runs outside a transaction)."""
    return lambda sql: sql.startswith("SELECT") and f'FROM "{table}"' in sql and connection.in_atomic_block


def inserts(table: str) -> Callable[[str], bool]:
    return lambda sql: sql.startswith(f'INSERT INTO "{table}"')


class Rendezvous:
    """Holds each of n threads at its first statement matching `meets_at` (see the module)."""

    def __init__(self, n: int, meets_at: Callable[[str], bool]):
        self.meets_at = meets_at
        self.arrived = threading.Barrier(n)
        self.changed = threading.Condition()
        self.backends: dict[int, int] = {}  # thread index -> its PostgreSQL backend pid
        self.done: set[int] = set()  # threads that have run the statement
        # A connection of its own asks PostgreSQL who is waiting for a lock.
        self.observer = connection.get_new_connection(connection.get_connection_params())
        self.observer.autocommit = True

    def close(self) -> None:
        self.observer.close()

    def _blocked(self, pid: int) -> bool:
        with self.observer.cursor() as cursor:
            cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid])
            return cursor.fetchone()[0]

    def _wait_for_the_others(self, index: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        with self.changed:
            self.done.add(index)
            self.changed.notify_all()
            while True:
                pending = [pid for i, pid in self.backends.items() if i not in self.done]
                if all(self._blocked(pid) for pid in pending):
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"threads {pending} neither ran the statement nor waited for a lock")
                # Woken at once by a thread that ran it; a thread starting to wait for a lock
                # is only seen by asking PostgreSQL again.
                self.changed.wait(timeout=0.005)

    def wrapper(self, index: int):
        first = True

        def meet(execute, sql, params, many, context):
            nonlocal first
            if not (first and self.meets_at(sql)):
                return execute(sql, params, many, context)
            first = False
            self.backends[index] = context["connection"].connection.info.backend_pid
            self.arrived.wait(timeout=TIMEOUT)
            try:
                return execute(sql, params, many, context)
            finally:
                self._wait_for_the_others(index)

        return meet


def _race(calls, *, meet_at: Callable[[str], bool]):
    """Run the callables at once, each in its own thread and connection, meeting at the
    statement `meet_at` recognises; every thread must reach it."""
    rendezvous = Rendezvous(len(calls), meet_at)
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index, call):
        try:
            with connection.execute_wrapper(rendezvous.wrapper(index)):
                results[index] = call()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    rendezvous.close()
    if errors:
        raise errors[0]
    assert len(rendezvous.done) == len(calls), "a thread never reached the statement"
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
        responses = _race(
            [lambda api=api, pk=booking.pk: api.post(f"/api/bookings/{pk}/accept/") for api in apis],
            meet_at=reads("bookings_booking"),
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.content for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "already_taken"
        winner = next(r for r in responses if r.status_code == 200)
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert booking.driver_id == winner.json()["driver"]


def test_same_payment_confirmed_twice_at_once_completes_once():
    admin = StaffFactory(email="a@example.com", permissions=["payments.confirm_payment"])
    payment = PaymentFactory()
    apis = [_token_client(admin), _token_client(admin)]
    responses = _race(
        [lambda api=api: api.post(f"/api/payments/{payment.pk}/confirm/") for api in apis],
        # A payment transition locks its booking first (found through the payment), then it.
        meet_at=reads("bookings_booking"),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert Payment.objects.get(pk=payment.pk).status == "completed"


def test_two_pending_payments_of_one_booking_confirmed_at_once_only_one_completes():
    admin = StaffFactory(email="a@example.com", permissions=["payments.confirm_payment"])
    booking = BookingFactory()
    payments = [PaymentFactory(booking=booking), PaymentFactory(booking=booking)]
    apis = [_token_client(admin), _token_client(admin)]
    responses = _race(
        [
            lambda api=api, p=p: api.post(f"/api/payments/{p.pk}/confirm/")
            for api, p in zip(apis, payments, strict=True)
        ],
        meet_at=reads("bookings_booking"),  # the booking both payments lock first
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
        [
            lambda api=api: api.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
            for api in apis
        ],
        meet_at=inserts("wemoov_idempotencyrecord"),
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
        ],
        meet_at=reads("fleet_driver"),
    )
    assert [r.status_code for r in responses] == [200] * 4
    driver.refresh_from_db()
    assert (driver.rating_count, driver.rating_total, str(driver.rating)) == (4, 14, "3.50")
    assert Booking.objects.filter(driver=driver, rating__isnull=False).count() == 4


def test_a_payment_created_during_its_booking_s_cancellation_is_settled_or_refused():
    """`payment_create` locks the booking. The payer reads the booking first and holds its
    INSERT until the cancellation has finished or waits for a lock in PostgreSQL: with the
    lock the cancellation waits, then fails the new payment; without it, the cancellation
    commits seeing no payment and a pending payment is left on a cancelled booking."""
    client = ClientFactory()
    pay_api, cancel_api = _token_client(client), _token_client(client)
    booking = BookingFactory(user=client)
    observer = connection.get_new_connection(connection.get_connection_params())
    observer.autocommit = True
    booking_read, cancel_over = threading.Event(), threading.Event()
    cancel_backend: list[int] = []
    results: dict = {}
    errors: list[BaseException] = []

    def cancel_over_or_blocked() -> bool:
        if cancel_over.is_set():
            return True
        if not cancel_backend:
            return False
        with observer.cursor() as cursor:
            cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [cancel_backend[0]])
            return cursor.fetchone()[0]

    def payer(execute, sql, params, many, context):
        if inserts("payments_payment")(sql):
            deadline = time.monotonic() + TIMEOUT
            while not cancel_over_or_blocked():
                assert time.monotonic() < deadline, "the cancellation neither finished nor waited for a lock"
                time.sleep(0.005)
        result = execute(sql, params, many, context)
        if reads("bookings_booking")(sql):
            booking_read.set()
        return result

    def canceller(execute, sql, params, many, context):
        if not cancel_backend:
            cancel_backend.append(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)

    def pay():
        try:
            with connection.execute_wrapper(payer):
                results["pay"] = pay_api.post(
                    "/api/payments/", {"booking": booking.pk, "method": "card"}, format="json"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def cancel():
        try:
            assert booking_read.wait(timeout=TIMEOUT), "the payer never read the booking"
            with connection.execute_wrapper(canceller):
                results["cancel"] = cancel_api.post(f"/api/bookings/{booking.pk}/cancel/", {}, format="json")
        except BaseException as exc:
            errors.append(exc)
        finally:
            cancel_over.set()
            connections.close_all()

    threads = [threading.Thread(target=pay), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    observer.close()
    if errors:
        raise errors[0]

    assert (results["pay"].status_code, results["cancel"].status_code) == (201, 200)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert list(Payment.objects.filter(booking=booking).values_list("status", flat=True)) == ["failed"]
