"""bookings.services called directly: pricing against hand-computed figures, every transition
of the status machine and every refusal with its contract code, ratings, query counts.

Expected statuses are the contract's literals (../shared/API.md), never read from the
service's TRANSITIONS table, so a wrong table fails here."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from bookings.models import Booking
from bookings.services import (
    booking_accept,
    booking_assign,
    booking_cancel,
    booking_complete,
    booking_create,
    booking_price,
    booking_rate,
    booking_start,
    great_circle_km,
)
from demo.factories import BookingFactory, ClientFactory, DriverFactory, VehicleFactory
from fleet.models import Driver, Vehicle
from wemoov.cache import USER_STATS, cached, data_key
from wemoov.errors import Conflict, InvalidInput, NotPermitted

pytestmark = pytest.mark.django_db


def _booking(status: str = "pending", driver: Driver | None = None, **fields) -> Booking:
    """A booking in `status`; past pending it has `driver` and one of their vehicles."""
    vehicle = driver.vehicles.first() if driver else None
    return BookingFactory(status=status, driver=driver, vehicle=vehicle, **fields)


def _driver(**fields) -> Driver:
    """An available driver with one available vehicle."""
    driver = DriverFactory(**fields)
    VehicleFactory(driver=driver)
    return driver


def _stored(booking: Booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


def _create(user, **overrides) -> Booking:
    fields = {
        "service_type": "ride",
        "pickup_address": "Plateau",
        "pickup_lat": 5.32,
        "pickup_lng": -4.02,
        "dropoff_address": "Cocody",
        "dropoff_lat": 5.36,
        "dropoff_lng": -3.98,
        "scheduled_date": timezone.now() + timedelta(hours=1),
    }
    return booking_create(user=user, **(fields | overrides))


def _prime_stats(*users) -> None:
    for user in users:
        cached(USER_STATS, str(user.pk), lambda: {"bookings": 0})


def _stats_cached(user) -> bool:
    return cache.get(data_key(USER_STATS, str(user.pk))) is not None


# --- pricing ----------------------------------------------------------------------------------
# Mean Earth radius 6371.0088 km: one degree of arc is 6371.0088 * pi / 180 = 111.19508 km.
@pytest.mark.parametrize(
    ("start", "end", "km"),
    [
        ((5.32, -4.02), (5.32, -4.02), "0.00"),  # the same point
        ((0.0, 0.0), (1.0, 0.0), "111.20"),  # one degree of latitude
        ((0.0, 0.0), (0.0, 1.0), "111.20"),  # one degree of longitude on the equator
        ((0.0, 0.0), (90.0, 0.0), "10007.56"),  # equator to pole: a quarter of 2 * pi * R
        ((0.0, 0.0), (0.0, 180.0), "20015.11"),  # antipodes: pi * R
        ((0.0, 179.5), (0.0, -179.5), "111.20"),  # across the antimeridian, the short way
        ((5.32, -4.02), (5.36, -3.98), "6.28"),  # Plateau to Cocody (law of cosines: 6.27651)
        ((48.8566, 2.3522), (51.5074, -0.1278), "343.56"),  # Paris to London (law of cosines: 343.55653)
    ],
)
def test_great_circle_km_matches_hand_computed_distances(start, end, km):
    assert great_circle_km(*start, *end) == Decimal(km)
    assert great_circle_km(*end, *start) == Decimal(km)


@pytest.mark.parametrize(
    ("service_type", "distance", "price"),
    [
        ("ride", "6.28", "1442.00"),  # 500 + 150 * 6.28
        ("delivery", "6.28", "1553.60"),  # 800 + 120 * 6.28
        ("rental", "6.28", "5628.00"),  # 5000 + 100 * 6.28
        ("ride", "0.00", "500.00"),  # the base fare alone
    ],
)
def test_booking_price_is_the_base_fare_plus_the_per_km_rate(service_type, distance, price):
    assert booking_price(service_type=service_type, distance_km=Decimal(distance)) == Decimal(price)


def test_booking_price_rounds_half_cents_up(settings):
    settings.WEMOOV_PRICING = {"ride": {"base": "0.00", "per_km": "0.125"}}

    assert booking_price(service_type="ride", distance_km=Decimal("1.00")) == Decimal("0.13")  # half-even: 0.12
    assert booking_price(service_type="ride", distance_km=Decimal("3.00")) == Decimal("0.38")  # 0.375


# --- booking_create ---------------------------------------------------------------------------
def test_booking_create_stores_a_pending_booking_with_the_server_computed_distance_and_price():
    client = ClientFactory()

    booking = _create(client, service_type="delivery")

    stored = _stored(booking)
    assert (stored.status, stored.user_id, stored.driver_id, stored.vehicle_id) == ("pending", client.pk, None, None)
    assert (stored.distance_km, stored.price) == (Decimal("6.28"), Decimal("1553.60"))


def test_booking_create_accepts_a_date_inside_the_minute_of_grace():
    booking = _create(ClientFactory(), scheduled_date=timezone.now() - timedelta(seconds=30))

    assert _stored(booking).status == "pending"


def test_booking_create_refuses_a_date_in_the_past_on_scheduled_date():
    with pytest.raises(InvalidInput) as refused:
        _create(ClientFactory(), scheduled_date=timezone.now() - timedelta(seconds=90))

    assert list(refused.value.errors) == ["scheduled_date"]
    assert not Booking.objects.exists()


def test_booking_create_drops_the_clients_cached_stats_after_the_commit(django_capture_on_commit_callbacks):
    client = ClientFactory()
    _prime_stats(client)

    with django_capture_on_commit_callbacks(execute=True):
        _create(client)

    assert not _stats_cached(client)


def test_booking_create_costs_one_insert(django_assert_num_queries):
    client = ClientFactory()

    with django_assert_num_queries(3):  # SAVEPOINT, INSERT, RELEASE
        _create(client)


# --- accept -----------------------------------------------------------------------------------
def test_accept_confirms_a_pending_booking_with_the_driver_and_an_available_vehicle():
    driver = DriverFactory()
    VehicleFactory(driver=driver, is_available=False)
    available = VehicleFactory(driver=driver)
    booking = _booking()

    booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    stored = _stored(booking)
    assert (stored.status, stored.driver_id, stored.vehicle_id) == ("confirmed", driver.pk, available.pk)


def test_accept_changes_no_availability_flag():
    driver = _driver()
    booking = _booking()

    booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert Driver.objects.get(pk=driver.pk).is_available is True
    assert Vehicle.objects.get(driver=driver).is_available is True


@pytest.mark.parametrize("status", ["confirmed", "in_progress", "completed"])
def test_accept_of_a_booking_another_driver_took_is_already_taken(status):
    other, driver = _driver(), _driver()
    booking = _booking(status, driver=other)

    with pytest.raises(Conflict) as refused:
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "already_taken"
    assert (_stored(booking).status, _stored(booking).driver_id) == (status, other.pk)


@pytest.mark.parametrize("status", ["confirmed", "in_progress", "completed", "cancelled"])
def test_accept_of_a_booking_past_pending_by_its_own_driver_is_an_invalid_transition(status):
    driver = _driver()
    booking = _booking(status, driver=driver)

    with pytest.raises(Conflict) as refused:
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "invalid_transition"
    assert _stored(booking).status == status


def test_accept_of_an_unassigned_cancelled_booking_is_an_invalid_transition():
    booking = _booking("cancelled")

    with pytest.raises(Conflict) as refused:
        booking_accept(booking_id=booking.pk, driver=(intruder := _driver()), actor=intruder.user, via="api")

    assert refused.value.code == "invalid_transition"
    assert (_stored(booking).status, _stored(booking).driver_id) == ("cancelled", None)


def test_accept_by_an_unavailable_driver_is_driver_unavailable():
    driver = _driver(is_available=False)
    booking = _booking()

    with pytest.raises(Conflict) as refused:
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "driver_unavailable"
    assert (_stored(booking).status, _stored(booking).driver_id) == ("pending", None)


def test_accept_reads_availability_from_the_database_not_the_callers_copy():
    driver = _driver()
    Driver.objects.filter(pk=driver.pk).update(is_available=False)  # `driver` still says available
    booking = _booking()

    with pytest.raises(Conflict) as refused:
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "driver_unavailable"


@pytest.mark.parametrize("vehicles", ["none", "only an unavailable one", "only another driver's"])
def test_accept_by_a_driver_without_an_available_vehicle_is_no_available_vehicle(vehicles):
    driver = DriverFactory()
    if vehicles == "only an unavailable one":
        VehicleFactory(driver=driver, is_available=False)
    elif vehicles == "only another driver's":
        VehicleFactory()
    booking = _booking()

    with pytest.raises(Conflict) as refused:
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "no_available_vehicle"
    assert (_stored(booking).status, _stored(booking).driver_id) == ("pending", None)


def test_accept_drops_the_client_and_driver_cached_stats_after_the_commit(django_capture_on_commit_callbacks):
    driver, booking = _driver(), _booking()
    _prime_stats(booking.user, driver.user)

    with django_capture_on_commit_callbacks(execute=True):
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert not _stats_cached(booking.user)
    assert not _stats_cached(driver.user)


def test_accept_costs_a_lock_an_availability_check_a_vehicle_and_an_update(django_assert_num_queries):
    driver, booking = _driver(), _booking()

    # SAVEPOINT, SELECT ... FOR UPDATE, driver available?, vehicle, UPDATE, INSERT history, RELEASE
    with django_assert_num_queries(7):
        booking_accept(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")


# --- assign -----------------------------------------------------------------------------------
def test_assign_confirms_a_pending_booking_with_the_vehicle_given():
    driver = _driver()
    chosen = VehicleFactory(driver=driver, is_available=False)
    booking = _booking()

    booking_assign(booking_id=booking.pk, driver=driver, vehicle=chosen, actor=booking.user, via="admin")

    stored = _stored(booking)
    assert (stored.status, stored.driver_id, stored.vehicle_id) == ("confirmed", driver.pk, chosen.pk)


def test_assign_without_a_vehicle_takes_one_of_the_drivers_available_vehicles():
    driver = DriverFactory()
    VehicleFactory(driver=driver, is_available=False)
    available = VehicleFactory(driver=driver)
    booking = _booking()

    booking_assign(booking_id=booking.pk, driver=driver, actor=booking.user, via="admin")

    assert _stored(booking).vehicle_id == available.pk


def test_assign_with_another_drivers_vehicle_is_refused_on_vehicle():
    driver, other = _driver(), _driver()
    booking = _booking()

    with pytest.raises(InvalidInput) as refused:
        booking_assign(
            booking_id=booking.pk, driver=driver, vehicle=other.vehicles.get(), actor=booking.user, via="admin"
        )

    assert list(refused.value.errors) == ["vehicle"]
    assert (_stored(booking).status, _stored(booking).driver_id) == ("pending", None)


def test_assign_without_a_vehicle_to_a_driver_with_none_available_is_no_available_vehicle():
    driver = DriverFactory()
    VehicleFactory(driver=driver, is_available=False)
    booking = _booking()

    with pytest.raises(Conflict) as refused:
        booking_assign(booking_id=booking.pk, driver=driver, actor=booking.user, via="admin")

    assert refused.value.code == "no_available_vehicle"
    assert _stored(booking).status == "pending"


@pytest.mark.parametrize("status", ["confirmed", "in_progress", "completed", "cancelled"])
def test_assign_of_a_booking_past_pending_is_an_invalid_transition(status):
    booking = _booking(status, driver=_driver())

    with pytest.raises(Conflict) as refused:
        booking_assign(booking_id=booking.pk, driver=_driver(), actor=booking.user, via="admin")

    assert refused.value.code == "invalid_transition"
    assert _stored(booking).status == status


@pytest.mark.parametrize(("with_vehicle", "queries"), [(True, 5), (False, 6)])
def test_assign_costs_a_lock_an_update_and_a_vehicle_lookup_only_without_one(
    with_vehicle, queries, django_assert_num_queries
):
    driver, booking = _driver(), _booking()
    vehicle = driver.vehicles.get() if with_vehicle else None

    # SAVEPOINT, SELECT ... FOR UPDATE, [vehicle], UPDATE, INSERT history, RELEASE
    with django_assert_num_queries(queries):
        booking_assign(booking_id=booking.pk, driver=driver, vehicle=vehicle, actor=booking.user, via="admin")


# --- start and complete -----------------------------------------------------------------------
def test_start_moves_a_confirmed_booking_to_in_progress():
    driver = _driver()
    booking = _booking("confirmed", driver=driver)

    booking_start(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert _stored(booking).status == "in_progress"


def test_complete_moves_an_in_progress_booking_to_completed():
    driver = _driver()
    booking = _booking("in_progress", driver=driver)

    booking_complete(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert _stored(booking).status == "completed"


@pytest.mark.parametrize("status", ["in_progress", "completed", "cancelled"])
def test_start_from_anything_but_confirmed_is_an_invalid_transition(status):
    driver = _driver()
    booking = _booking(status, driver=driver)

    with pytest.raises(Conflict) as refused:
        booking_start(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "invalid_transition"
    assert _stored(booking).status == status


@pytest.mark.parametrize("status", ["confirmed", "completed", "cancelled"])
def test_complete_from_anything_but_in_progress_is_an_invalid_transition(status):
    driver = _driver()
    booking = _booking(status, driver=driver)

    with pytest.raises(Conflict) as refused:
        booking_complete(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")

    assert refused.value.code == "invalid_transition"
    assert _stored(booking).status == status


@pytest.mark.parametrize(
    ("action", "status"), [(booking_start, "confirmed"), (booking_complete, "in_progress")], ids=["start", "complete"]
)
def test_start_or_complete_by_another_driver_is_not_permitted(action, status):
    driver, other = _driver(), _driver()
    booking = _booking(status, driver=driver)

    with pytest.raises(NotPermitted):
        action(booking_id=booking.pk, driver=other, actor=other.user, via="api")

    assert (_stored(booking).status, _stored(booking).driver_id) == (status, driver.pk)


def test_start_of_an_unassigned_pending_booking_is_not_permitted():
    booking = _booking()

    with pytest.raises(NotPermitted):
        booking_start(booking_id=booking.pk, driver=(intruder := _driver()), actor=intruder.user, via="api")

    assert _stored(booking).status == "pending"


@pytest.mark.parametrize(
    ("action", "status"), [(booking_start, "confirmed"), (booking_complete, "in_progress")], ids=["start", "complete"]
)
def test_start_or_complete_costs_a_lock_and_an_update(action, status, django_assert_num_queries):
    driver = _driver()
    booking = _booking(status, driver=driver)

    with django_assert_num_queries(5):  # SAVEPOINT, SELECT ... FOR UPDATE, UPDATE, INSERT history, RELEASE
        action(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")


# --- cancel -----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["pending", "confirmed"])
def test_cancel_of_a_pending_or_confirmed_booking_stores_cancelled_and_the_reason(status):
    booking = _booking(status, driver=_driver() if status == "confirmed" else None)

    booking_cancel(booking_id=booking.pk, reason="Plans changed", actor=booking.user, via="api")

    stored = _stored(booking)
    assert (stored.status, stored.cancel_reason) == ("cancelled", "Plans changed")


@pytest.mark.parametrize("status", ["in_progress", "completed", "cancelled"])
def test_cancel_of_a_booking_past_confirmed_is_an_invalid_transition(status):
    booking = _booking(status, driver=_driver())

    with pytest.raises(Conflict) as refused:
        booking_cancel(booking_id=booking.pk, reason="Too late", actor=booking.user, via="api")

    assert refused.value.code == "invalid_transition"
    stored = _stored(booking)
    assert (stored.status, stored.cancel_reason) == (status, "")


def test_cancel_drops_the_client_and_driver_cached_stats_after_the_commit(django_capture_on_commit_callbacks):
    driver = _driver()
    booking = _booking("confirmed", driver=driver)
    _prime_stats(booking.user, driver.user)

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking_id=booking.pk, actor=booking.user, via="api")

    assert not _stats_cached(booking.user)
    assert not _stats_cached(driver.user)


@pytest.mark.parametrize(("status", "queries"), [("pending", 5), ("confirmed", 6)])
def test_cancel_costs_a_lock_an_update_and_the_driver_when_there_is_one(status, queries, django_assert_num_queries):
    booking = _booking(status, driver=_driver() if status == "confirmed" else None)

    # SAVEPOINT, SELECT ... FOR UPDATE, UPDATE, INSERT history, [the driver, for their cached
    # stats], RELEASE
    with django_assert_num_queries(queries):
        booking_cancel(booking_id=booking.pk, actor=booking.user, via="api")


# --- rate -------------------------------------------------------------------------------------
def test_rate_stores_the_rating_and_starts_the_drivers_mean():
    driver = _driver()
    booking = _booking("completed", driver=driver)

    booking_rate(booking_id=booking.pk, rating=4)

    assert _stored(booking).rating == 4
    stored = Driver.objects.get(pk=driver.pk)
    assert (stored.rating, stored.rating_count, stored.rating_total) == (Decimal("4.00"), 1, 4)


def test_rate_keeps_the_drivers_mean_and_count_over_several_bookings():
    driver = _driver()
    for rating in (5, 4, 4):  # 13 / 3 = 4.333...
        booking_rate(booking_id=_booking("completed", driver=driver).pk, rating=rating)

    stored = Driver.objects.get(pk=driver.pk)
    assert (stored.rating, stored.rating_count, stored.rating_total) == (Decimal("4.33"), 3, 13)


def test_rate_rounds_the_drivers_mean_half_up():
    driver = _driver()
    for rating in (5, 5, 5, 5, 5, 4, 4, 4):  # 37 / 8 = 4.625
        booking_rate(booking_id=_booking("completed", driver=driver).pk, rating=rating)

    assert Driver.objects.get(pk=driver.pk).rating == Decimal("4.63")


def test_rate_leaves_other_drivers_alone():
    driver, other = _driver(), _driver()

    booking_rate(booking_id=_booking("completed", driver=driver).pk, rating=2)

    stored = Driver.objects.get(pk=other.pk)
    assert (stored.rating, stored.rating_count, stored.rating_total) == (None, 0, 0)


def test_rating_a_booking_twice_is_an_invalid_transition_and_counts_once():
    driver = _driver()
    booking = _booking("completed", driver=driver)
    booking_rate(booking_id=booking.pk, rating=5)

    with pytest.raises(Conflict) as refused:
        booking_rate(booking_id=booking.pk, rating=1)

    assert refused.value.code == "invalid_transition"
    assert _stored(booking).rating == 5
    stored = Driver.objects.get(pk=driver.pk)
    assert (stored.rating, stored.rating_count, stored.rating_total) == (Decimal("5.00"), 1, 5)


@pytest.mark.parametrize("status", ["confirmed", "in_progress", "cancelled"])
def test_rating_a_booking_that_is_not_completed_is_an_invalid_transition(status):
    driver = _driver()
    booking = _booking(status, driver=driver)

    with pytest.raises(Conflict) as refused:
        booking_rate(booking_id=booking.pk, rating=5)

    assert refused.value.code == "invalid_transition"
    assert _stored(booking).rating is None
    assert Driver.objects.get(pk=driver.pk).rating_count == 0


def test_rate_costs_two_locks_and_two_updates(django_assert_num_queries):
    booking = _booking("completed", driver=_driver())

    # SAVEPOINT, booking FOR UPDATE, UPDATE booking, driver FOR UPDATE, UPDATE driver, RELEASE
    with django_assert_num_queries(6):
        booking_rate(booking_id=booking.pk, rating=5)


# --- the whole journey ------------------------------------------------------------------------
def test_a_booking_goes_from_pending_to_completed_through_each_service():
    driver = _driver()
    booking = _create(ClientFactory())
    seen = [_stored(booking).status]

    for step in (booking_accept, booking_start, booking_complete):
        step(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")
        seen.append(_stored(booking).status)

    assert seen == ["pending", "confirmed", "in_progress", "completed"]
