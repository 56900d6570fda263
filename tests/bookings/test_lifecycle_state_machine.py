"""A model-based test of the booking and payment lifecycle (Hypothesis's stateful testing):
clients, drivers and an admin act in random order, through the services (and, in a second,
smaller run, through the API), and after every step the contract's invariants hold:

* statuses move only along the contract's transitions;
* at most one completed payment per booking; a refunded payment was completed before;
* a cancelled booking has no pending payment;
* ratings only on completed bookings, and each driver's rating is the mean of theirs;
* every statistic (the dashboard, each user's figures) equals a recount from the rows.

Each rule also checks its own outcome against what the contract says for the state it
started from (success, or which refusal). A failure prints the shrunk sequence of steps.
Bounded: LIFECYCLE_EXAMPLES runs of at most LIFECYCLE_STEPS steps (API: a third of the runs, half the steps).

The coupled rules (cancelling a paid booking: 409 `already_paid` for its client or driver, an
admin's cancel refunds; a cancelled booking's pending payments become `failed`; confirming a
payment of a cancelled booking: 409 `booking_cancelled`) are checked in every run.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from knox.models import AuthToken
from rest_framework.test import APIClient

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from demo.factories import AdminFactory, ClientFactory, DriverFactory, VehicleFactory, booking_request
from fleet.models import Driver
from payments import services as payment_services
from payments.models import Payment, PaymentStatus
from stats.selectors import dashboard_stats, user_stats
from tests.stats.test_selectors import _contract_part, _independent_dashboard
from users.models import User
from wemoov import errors

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("LIFECYCLE_EXAMPLES", "25"))
STEPS = int(os.environ.get("LIFECYCLE_STEPS", "20"))

BOOKING_MOVES = {
    (BookingStatus.PENDING, BookingStatus.CONFIRMED),
    (BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS),
    (BookingStatus.IN_PROGRESS, BookingStatus.COMPLETED),
    (BookingStatus.PENDING, BookingStatus.CANCELLED),
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED),
}
PAYMENT_MOVES = {
    (PaymentStatus.PENDING, PaymentStatus.COMPLETED),
    (PaymentStatus.PENDING, PaymentStatus.FAILED),
    (PaymentStatus.COMPLETED, PaymentStatus.REFUNDED),
}
OK = "ok"
VIA = "command"  # the services called directly, as commands and scripts call them


def _outcome_of(call) -> str:
    """ "ok", or the refusal: a contract 409 code, "invalid_input" or "not_permitted"."""
    try:
        call()
    except errors.Conflict as exc:
        return exc.code
    except errors.InvalidInput:
        return "invalid_input"
    except errors.NotPermitted:
        return "not_permitted"
    return OK


class Services:
    """The actors' moves through the services, as the admin and commands make them."""

    def __init__(self, machine):
        self.m = machine

    def create_booking(self, client, service_type):
        body = booking_request(service_type=service_type)
        body["scheduled_date"] = timezone.now() + timedelta(hours=1)
        created = []
        outcome = _outcome_of(lambda: created.append(booking_services.booking_create(user=client, **body)))
        return outcome, created[0].pk if created else None

    def _driver_move(self, service, booking_id, driver):
        return _outcome_of(lambda: service(booking_id=booking_id, driver=driver, actor=driver.user, via=VIA))

    def accept(self, booking_id, driver):
        return self._driver_move(booking_services.booking_accept, booking_id, driver)

    def assign(self, booking_id, driver):
        return _outcome_of(
            lambda: booking_services.booking_assign(booking_id=booking_id, driver=driver, actor=self.m.admin, via=VIA)
        )

    def start(self, booking_id, driver):
        return self._driver_move(booking_services.booking_start, booking_id, driver)

    def complete(self, booking_id, driver):
        return self._driver_move(booking_services.booking_complete, booking_id, driver)

    def cancel(self, booking_id, actor):
        # The cancel that settles payments (the bookings half alone knows nothing of them).
        return _outcome_of(
            lambda: payment_services.booking_cancel_and_settle(booking_id=booking_id, reason="", actor=actor, via=VIA)
        )

    def rate(self, booking_id, client, rating):
        return _outcome_of(lambda: booking_services.booking_rate(booking_id=booking_id, rating=rating))

    def pay(self, booking_id, client, method):
        created = []
        outcome = _outcome_of(
            lambda: created.append(payment_services.payment_create(user=client, booking_id=booking_id, method=method))
        )
        return outcome, created[0].pk if created else None

    def payment(self, action, payment_id):
        service = getattr(payment_services, f"payment_{action}")
        return _outcome_of(lambda: service(payment_id=payment_id, actor=self.m.admin, via=VIA))


class Api:
    """The same moves over HTTP, each by the user the contract lets make it."""

    STATUS_OUTCOMES = {400: "invalid_input", 403: "not_permitted", 404: "not_found"}

    def __init__(self, machine):
        self.m = machine
        self.clients = {}

    def _as(self, user) -> APIClient:
        if user.pk not in self.clients:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
            self.clients[user.pk] = api
        return self.clients[user.pk]

    def _outcome(self, response) -> str:
        assert response.status_code < 500, response.content
        if response.status_code < 300:
            return OK
        if response.status_code == 409:
            return response.json()["code"]
        return self.STATUS_OUTCOMES[response.status_code]

    def create_booking(self, client, service_type):
        response = self._as(client).post("/api/bookings/", booking_request(service_type=service_type), format="json")
        return self._outcome(response), response.json().get("id") if response.status_code == 201 else None

    def _post(self, user, path, body=None):
        return self._outcome(self._as(user).post(path, body or {}, format="json"))

    def accept(self, booking_id, driver):
        return self._post(driver.user, f"/api/bookings/{booking_id}/accept/")

    def assign(self, booking_id, driver):
        return self._post(self.m.admin, f"/api/bookings/{booking_id}/assign/", {"driver": driver.pk})

    def start(self, booking_id, driver):
        return self._post(driver.user, f"/api/bookings/{booking_id}/start/")

    def complete(self, booking_id, driver):
        return self._post(driver.user, f"/api/bookings/{booking_id}/complete/")

    def cancel(self, booking_id, actor):
        return self._post(actor, f"/api/bookings/{booking_id}/cancel/")

    def rate(self, booking_id, client, rating):
        return self._post(client, f"/api/bookings/{booking_id}/rate/", {"rating": rating})

    def pay(self, booking_id, client, method):
        response = self._as(client).post("/api/payments/", {"booking": booking_id, "method": method}, format="json")
        return self._outcome(response), response.json().get("id") if response.status_code == 201 else None

    def payment(self, action, payment_id):
        return self._post(self.m.admin, f"/api/payments/{payment_id}/{action}/")


class Lifecycle(RuleBasedStateMachine):
    """Two clients, two drivers (one vehicle each) and an admin; each run in a savepoint
    rolled back at its end, so runs do not see each other's rows."""

    via_api = False

    bookings = Bundle("bookings")
    payments = Bundle("payments")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.admin = AdminFactory()
        self.clients = [ClientFactory(), ClientFactory()]
        self.drivers = [DriverFactory(), DriverFactory()]
        for driver in self.drivers:
            VehicleFactory(driver=driver)
        self.act = Api(self) if self.via_api else Services(self)
        self.booking_status: dict[int, str] = {}
        self.payment_status: dict[int, str] = {}
        self.ever_completed: set[int] = set()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------
    def _booking(self, booking_id) -> Booking:
        return Booking.objects.get(pk=booking_id)

    def _paid(self, booking_id) -> bool:
        return Payment.objects.filter(booking_id=booking_id, status=PaymentStatus.COMPLETED).exists()

    def _check(self, outcome: str, expected: str, step: str) -> None:
        assert outcome == expected, f"{step}: got {outcome}, the contract says {expected}"

    # --- every run starts with a paid booking and one with a pending payment, the states
    # the coupled cancel and payment rules are about ------------------------------------
    def _booking_with_payment(self, client, *, confirmed: bool) -> int:
        outcome, booking_id = self.act.create_booking(client, "ride")
        self._check(outcome, OK, "create")
        outcome, payment_id = self.act.pay(booking_id, client, "card")
        self._check(outcome, OK, "pay")
        self.booking_status[booking_id] = BookingStatus.PENDING
        self.payment_status[payment_id] = PaymentStatus.PENDING
        if confirmed:
            self._check(self.act.payment("confirm", payment_id), OK, "confirm")
        return booking_id

    @initialize(target=bookings)
    def paid_booking(self):
        return self._booking_with_payment(self.clients[0], confirmed=True)

    @initialize(target=bookings)
    def booking_with_a_pending_payment(self):
        return self._booking_with_payment(self.clients[1], confirmed=False)

    # --- rules ---------------------------------------------------------------------------
    @rule(target=bookings, who=st.integers(0, 1), service_type=st.sampled_from(["ride", "delivery", "rental"]))
    def create_booking(self, who, service_type):
        outcome, booking_id = self.act.create_booking(self.clients[who], service_type)
        self._check(outcome, OK, "create")
        self.booking_status[booking_id] = BookingStatus.PENDING
        return booking_id

    @rule(booking_id=bookings, who=st.integers(0, 1))
    def accept(self, booking_id, who):
        booking, driver = self._booking(booking_id), self.drivers[who]
        driver.refresh_from_db()
        if booking.driver_id is not None and booking.driver_id != driver.pk:
            expected = "already_taken"
            if self.via_api and booking.status == BookingStatus.CANCELLED:
                expected = "not_found"  # no longer in anything the driver can see
        elif booking.status != BookingStatus.PENDING:
            expected = "not_found" if self.via_api and booking.driver_id is None else "invalid_transition"
        elif not driver.is_available:
            expected = "driver_unavailable"
        else:
            expected = OK
        self._check(self.act.accept(booking_id, driver), expected, f"driver {who} accepts {booking.status}")

    @rule(booking_id=bookings, who=st.integers(0, 1))
    def assign(self, booking_id, who):
        booking = self._booking(booking_id)
        expected = OK if booking.status == BookingStatus.PENDING else "invalid_transition"
        self._check(self.act.assign(booking_id, self.drivers[who]), expected, f"admin assigns {booking.status}")

    @rule(booking_id=bookings, who=st.integers(0, 1), action=st.sampled_from(["start", "complete"]))
    def drive(self, booking_id, who, action):
        booking, driver = self._booking(booking_id), self.drivers[who]
        if self.via_api and booking.driver_id != driver.pk:
            who = next(i for i, d in enumerate(self.drivers) if d.pk == booking.driver_id) if booking.driver_id else who
            driver = self.drivers[who]
        source = BookingStatus.CONFIRMED if action == "start" else BookingStatus.IN_PROGRESS
        if booking.driver_id != driver.pk:
            # A booking in the pool (or another driver's) is not theirs to act on.
            expected = "not_permitted"
            if self.via_api:
                expected = "not_permitted" if booking.status == BookingStatus.PENDING else "not_found"
        else:
            expected = OK if booking.status == source else "invalid_transition"
        outcome = getattr(self.act, action)(booking_id, driver)
        self._check(outcome, expected, f"driver {who} {action}s {booking.status}")

    @rule(booking_id=bookings, who=st.sampled_from(["client", "driver", "admin"]))
    def cancel(self, booking_id, who):
        booking = self._booking(booking_id)
        if who == "driver" and booking.driver_id is None:
            who = "client"  # the pool's bookings are not a driver's to cancel
        actor = {"client": booking.user, "admin": self.admin}.get(who) or booking.driver.user
        paid = self._paid(booking_id)
        if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
            expected = "invalid_transition"
        elif paid and who != "admin":
            expected = "already_paid"
        else:
            expected = OK
        self._check(self.act.cancel(booking_id, actor), expected, f"{who} cancels {booking.status} (paid: {paid})")
        if expected == OK and paid:
            # An admin's cancel refunds the completed payment in the same transaction.
            assert not self._paid(booking_id)
            assert Payment.objects.filter(booking_id=booking_id, status=PaymentStatus.REFUNDED).exists()

    @rule(booking_id=bookings, rating=st.integers(1, 5))
    def rate(self, booking_id, rating):
        booking = self._booking(booking_id)
        ok = booking.status == BookingStatus.COMPLETED and booking.rating is None
        expected = OK if ok else "invalid_transition"
        outcome = self.act.rate(booking_id, booking.user, rating)
        self._check(outcome, expected, f"client rates {booking.status} (rated: {booking.rating})")

    @rule(who=st.integers(0, 1), available=st.booleans())
    def set_availability(self, who, available):
        Driver.objects.filter(pk=self.drivers[who].pk).update(is_available=available)

    @rule(target=payments, booking_id=bookings, own=st.booleans(), method=st.sampled_from(["card", "cash"]))
    def pay(self, booking_id, own, method):
        booking = self._booking(booking_id)
        client = booking.user if own or self.via_api else next(c for c in self.clients if c.pk != booking.user_id)
        if client.pk != booking.user_id:
            expected = "invalid_input"
        elif booking.status == BookingStatus.CANCELLED:
            expected = "booking_cancelled"
        elif self._paid(booking_id):
            expected = "already_paid"
        else:
            expected = OK
        outcome, payment_id = self.act.pay(booking_id, client, method)
        self._check(outcome, expected, f"{'own' if own else 'other'} client pays {booking.status}")
        if payment_id is None:
            return multiple()
        self.payment_status[payment_id] = PaymentStatus.PENDING
        return payment_id

    @rule(payment_id=payments, action=st.sampled_from(["confirm", "fail", "refund"]))
    def payment_transition(self, payment_id, action):
        payment = Payment.objects.select_related("booking").get(pk=payment_id)
        source = PaymentStatus.COMPLETED if action == "refund" else PaymentStatus.PENDING
        if payment.status != source:
            expected = "invalid_transition"
        elif action == "confirm" and payment.booking.status == BookingStatus.CANCELLED:
            expected = "booking_cancelled"
        elif action == "confirm" and self._paid(payment.booking_id):
            expected = "already_paid"
        else:
            expected = OK
        outcome = self.act.payment(action, payment_id)
        self._check(outcome, expected, f"admin {action}s a {payment.status} payment")

    # --- invariants, after every step ---------------------------------------------------
    @invariant()
    def statuses_move_only_along_the_contract(self):
        for booking_id, status in Booking.objects.values_list("pk", "status"):
            before = self.booking_status.get(booking_id)
            if before is not None:
                assert before == status or (before, status) in BOOKING_MOVES, f"booking {before} -> {status}"
            self.booking_status[booking_id] = status
        for payment_id, status in Payment.objects.values_list("pk", "status"):
            before = self.payment_status.get(payment_id)
            if before is not None:
                assert before == status or (before, status) in PAYMENT_MOVES, f"payment {before} -> {status}"
            if status == PaymentStatus.REFUNDED:
                assert payment_id in self.ever_completed, "refunded without having been completed"
            if status == PaymentStatus.COMPLETED:
                self.ever_completed.add(payment_id)
            self.payment_status[payment_id] = status

    @invariant()
    def at_most_one_completed_payment_per_booking(self):
        completed = list(Payment.objects.filter(status=PaymentStatus.COMPLETED).values_list("booking_id", flat=True))
        assert len(completed) == len(set(completed))

    @invariant()
    def a_cancelled_booking_has_no_pending_payment(self):
        pending = Payment.objects.filter(booking__status=BookingStatus.CANCELLED, status=PaymentStatus.PENDING)
        assert not pending.exists(), "a cancelled booking kept a pending payment"

    @invariant()
    def ratings_only_on_completed_bookings_and_drivers_rated_by_their_mean(self):
        assert not Booking.objects.exclude(status=BookingStatus.COMPLETED).exclude(rating=None).exists()
        for driver in Driver.objects.all():
            ratings = list(Booking.objects.filter(driver=driver).exclude(rating=None).values_list("rating", flat=True))
            assert driver.rating_count == len(ratings)
            mean = (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01")) if ratings else None
            assert driver.rating == mean

    @invariant()
    def every_statistic_equals_a_recount(self):
        assert _contract_part(dashboard_stats()) == _independent_dashboard()
        completed = Payment.objects.filter(status=PaymentStatus.COMPLETED)
        for user in User.objects.all():
            own = Booking.objects.filter(user=user)
            expected = {
                "bookings": own.count(),
                "completed_bookings": own.filter(status=BookingStatus.COMPLETED).count(),
                "total_spent": sum((p.amount for p in completed.filter(user=user)), Decimal("0.00")),
            }
            if user.role == "driver":
                driven = Booking.objects.filter(driver__user=user)
                expected |= {
                    "driven": driven.count(),
                    "completed_driven": driven.filter(status=BookingStatus.COMPLETED).count(),
                    "total_earned": sum(
                        (p.amount for p in completed.filter(booking__driver__user=user)), Decimal("0.00")
                    ),
                }
            assert user_stats(user) == expected, user.role


def _run(machine: type[Lifecycle], examples: int, steps: int, *, shrink: bool = True) -> None:
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink, Phase.explain] if shrink else [])
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=phases,
        ),
    )


def test_lifecycle_through_the_services_keeps_the_invariants():
    _run(Lifecycle, EXAMPLES, STEPS)


def test_lifecycle_through_the_api_keeps_the_invariants():
    _run(type("ApiLifecycle", (Lifecycle,), {"via_api": True}), max(1, EXAMPLES // 3), max(5, STEPS // 2))
