"""payments.services called directly: creation from a booking, the status machine with its
refusals and codes, one completed payment per booking, query counts.

Expected statuses are the contract's literals (../shared/API.md), never read from TRANSITIONS."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from payments.models import Payment
from payments.services import payment_confirm, payment_create, payment_fail, payment_refund
from wemoov.cache import USER_STATS, cached, data_key
from wemoov.errors import Conflict, InvalidInput

pytestmark = pytest.mark.django_db


def _driven_booking(status: str = "completed", **fields):
    driver = DriverFactory()
    return BookingFactory(status=status, driver=driver, vehicle=VehicleFactory(driver=driver), **fields)


def _status(payment: Payment) -> str:
    return Payment.objects.get(pk=payment.pk).status


def _prime_stats(*users) -> None:
    for user in users:
        cached(USER_STATS, str(user.pk), lambda: {"bookings": 0})


def _stats_cached(user) -> bool:
    return cache.get(data_key(USER_STATS, str(user.pk))) is not None


# --- payment_create ---------------------------------------------------------------------------
def test_payment_create_charges_the_bookings_price_in_the_configured_currency(settings):
    settings.WEMOOV_CURRENCY = "GHS"
    booking = _driven_booking(price=Decimal("1442.00"))

    payment = payment_create(user=booking.user, booking_id=booking.pk, method="mobile_money")

    stored = Payment.objects.get(pk=payment.pk)
    assert (stored.booking_id, stored.user_id, stored.amount, stored.currency, stored.method, stored.status) == (
        booking.pk,
        booking.user_id,
        Decimal("1442.00"),
        "GHS",
        "mobile_money",
        "pending",
    )


@pytest.mark.parametrize("status", ["pending", "confirmed", "in_progress", "completed"])
def test_payment_create_accepts_a_booking_in_any_status_but_cancelled(status):
    booking = _driven_booking(status) if status != "pending" else BookingFactory()

    payment_create(user=booking.user, booking_id=booking.pk, method="card")

    assert Payment.objects.filter(booking=booking).count() == 1


def test_payment_create_allows_several_pending_payments_for_one_booking():
    booking = _driven_booking()
    PaymentFactory(booking=booking, status="pending")

    payment_create(user=booking.user, booking_id=booking.pk, method="cash")

    assert list(Payment.objects.filter(booking=booking).values_list("status", flat=True)) == ["pending", "pending"]


def test_payment_create_for_someone_elses_booking_is_refused_on_booking():
    booking = _driven_booking()

    with pytest.raises(InvalidInput) as refused:
        payment_create(user=ClientFactory(), booking_id=booking.pk, method="card")

    assert list(refused.value.errors) == ["booking"]
    assert not Payment.objects.exists()


def test_payment_create_for_an_unknown_booking_is_refused_the_same_way():
    booking = _driven_booking()

    with pytest.raises(InvalidInput) as unknown:
        payment_create(user=booking.user, booking_id=booking.pk + 1000, method="card")
    with pytest.raises(InvalidInput) as not_theirs:
        payment_create(user=ClientFactory(), booking_id=booking.pk, method="card")

    assert unknown.value.errors == not_theirs.value.errors


def test_payment_create_for_a_cancelled_booking_is_booking_cancelled():
    booking = BookingFactory(status="cancelled")

    with pytest.raises(Conflict) as refused:
        payment_create(user=booking.user, booking_id=booking.pk, method="card")

    assert refused.value.code == "booking_cancelled"
    assert not Payment.objects.exists()


def test_payment_create_for_a_paid_booking_is_already_paid():
    booking = _driven_booking()
    PaymentFactory(booking=booking, status="completed")

    with pytest.raises(Conflict) as refused:
        payment_create(user=booking.user, booking_id=booking.pk, method="card")

    assert refused.value.code == "already_paid"
    assert Payment.objects.filter(booking=booking).count() == 1


@pytest.mark.parametrize("earlier", ["failed", "refunded"])
def test_payment_create_after_a_failed_or_refunded_payment_is_accepted(earlier):
    booking = _driven_booking()
    PaymentFactory(booking=booking, status=earlier)

    payment = payment_create(user=booking.user, booking_id=booking.pk, method="card")

    assert _status(payment) == "pending"


def test_payment_create_drops_the_clients_cached_stats_after_the_commit(django_capture_on_commit_callbacks):
    booking = _driven_booking()
    _prime_stats(booking.user)

    with django_capture_on_commit_callbacks(execute=True):
        payment_create(user=booking.user, booking_id=booking.pk, method="card")

    assert not _stats_cached(booking.user)


def test_payment_create_costs_a_lock_a_check_and_an_insert(django_assert_num_queries):
    booking = _driven_booking()

    # SAVEPOINT, booking FOR UPDATE, completed payment?, INSERT, RELEASE
    with django_assert_num_queries(5):
        payment_create(user=booking.user, booking_id=booking.pk, method="card")


# --- transitions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        (payment_confirm, "pending", "completed"),
        (payment_fail, "pending", "failed"),
        (payment_refund, "completed", "refunded"),
    ],
    ids=["confirm", "fail", "refund"],
)
def test_each_transition_moves_the_payment_as_the_contract_says(action, start, end):
    payment = PaymentFactory(booking=_driven_booking(), status=start)

    returned = action(payment_id=payment.pk, actor=payment.user, via="api")

    assert (returned.status, _status(payment)) == (end, end)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (payment_confirm, "completed"),
        (payment_confirm, "failed"),
        (payment_confirm, "refunded"),
        (payment_fail, "completed"),
        (payment_fail, "failed"),
        (payment_fail, "refunded"),
        (payment_refund, "pending"),
        (payment_refund, "failed"),
        (payment_refund, "refunded"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_transition_the_status_does_not_allow_is_an_invalid_transition(action, status):
    payment = PaymentFactory(booking=_driven_booking(), status=status)

    with pytest.raises(Conflict) as refused:
        action(payment_id=payment.pk, actor=payment.user, via="api")

    assert refused.value.code == "invalid_transition"
    assert _status(payment) == status


def test_confirming_a_second_payment_of_a_paid_booking_is_already_paid():
    booking = _driven_booking()
    first = PaymentFactory(booking=booking, status="pending")
    second = PaymentFactory(booking=booking, status="pending")
    payment_confirm(payment_id=first.pk, actor=first.user, via="api")

    with pytest.raises(Conflict) as refused:
        payment_confirm(payment_id=second.pk, actor=second.user, via="api")

    assert refused.value.code == "already_paid"
    assert (_status(first), _status(second)) == ("completed", "pending")


def test_a_refunded_booking_can_be_paid_and_confirmed_again():
    booking = _driven_booking()
    refunded = PaymentFactory(booking=booking, status="completed")
    payment_refund(payment_id=refunded.pk, actor=refunded.user, via="api")

    again = payment_create(user=booking.user, booking_id=booking.pk, method="card")
    payment_confirm(payment_id=again.pk, actor=again.user, via="api")

    assert (_status(refunded), _status(again)) == ("refunded", "completed")


@pytest.mark.parametrize(
    ("action", "start"),
    [(payment_confirm, "pending"), (payment_fail, "pending"), (payment_refund, "completed")],
    ids=["confirm", "fail", "refund"],
)
def test_a_transition_drops_the_client_and_driver_cached_stats_after_the_commit(
    action, start, django_capture_on_commit_callbacks
):
    booking = _driven_booking()
    payment = PaymentFactory(booking=booking, status=start)
    _prime_stats(booking.user, booking.driver.user)

    with django_capture_on_commit_callbacks(execute=True):
        action(payment_id=payment.pk, actor=payment.user, via="api")

    assert not _stats_cached(booking.user)
    assert not _stats_cached(booking.driver.user)


@pytest.mark.parametrize(
    ("action", "start"),
    [(payment_confirm, "pending"), (payment_fail, "pending"), (payment_refund, "completed")],
    ids=["confirm", "fail", "refund"],
)
def test_a_transition_costs_one_locking_read_and_one_update(action, start, django_assert_num_queries):
    payment = PaymentFactory(booking=_driven_booking(), status=start)

    # SAVEPOINT, booking FOR UPDATE (found through the payment, with its driver), payment FOR
    # UPDATE, [SAVEPOINT, UPDATE, RELEASE for a confirmation; UPDATE otherwise], INSERT of the
    # history row, RELEASE
    with django_assert_num_queries(8 if action is payment_confirm else 6):
        action(payment_id=payment.pk, actor=payment.user, via="api")
