"""DATABASE_REPLICA_URL: lists read the replica; writes, details, the reads that must see a
write, and the statistics (the freshness rule: every row committed 1 s before the request is
counted, which a lagging replica cannot promise) read the primary.

The replica here is another database than the primary (CI's replica step points
DATABASE_REPLICA_URL at a second PostgreSQL database; wemoov/settings_test.py refuses the
primary's own). The two differ by construction: `replicate()` copies the primary at one
moment, as a lagging replica would hold it; a row written after that exists on the primary
only, a row deleted after it on the replica only. A read from the wrong alias finds the
wrong rows."""

import pytest
from django.conf import settings

from bookings.models import Booking
from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from tests.conftest import replicate
from wemoov.db_routers import ReplicaRouter


def needs_replica(test):
    """PostgreSQL and a replica database (CI's replica step); elsewhere skipped, saying why."""
    return pytest.mark.postgres(
        pytest.mark.skipif(
            "replica" not in settings.DATABASES,
            reason="needs a replica: DATABASE_REPLICA_URL naming another PostgreSQL database (CI's replica step)",
        )(test)
    )


def test_the_router_sends_writes_and_migrations_to_the_primary():
    router = ReplicaRouter()
    assert router.db_for_write(None) == "default"
    assert router.db_for_read(None) is None  # the primary unless a queryset names the replica
    assert router.allow_migrate("default", "bookings") is True
    assert router.allow_migrate("replica", "bookings") is False


@pytest.mark.parametrize(
    ("path", "factory"),
    [
        ("/api/bookings/", BookingFactory),
        ("/api/payments/", PaymentFactory),
        ("/api/users/", ClientFactory),
        ("/api/drivers/", DriverFactory),
        ("/api/vehicles/", VehicleFactory),
    ],
)
@needs_replica
@pytest.mark.django_db(databases="__all__")
def test_lists_read_the_replica_and_details_the_primary(as_admin, path, factory):
    deleted_since = factory()
    replicate()
    type(deleted_since).objects.filter(pk=deleted_since.pk).delete()  # still on the replica
    written_since = factory()  # not on the replica yet

    listed = {row["id"] for row in as_admin.get(path).json()["results"]}
    assert deleted_since.pk in listed
    assert written_since.pk not in listed
    assert as_admin.get(f"{path}{written_since.pk}/").status_code == 200
    assert as_admin.get(f"{path}{deleted_since.pk}/").status_code == 404


@needs_replica
@pytest.mark.django_db(databases="__all__")
def test_statistics_read_the_primary(as_admin):
    BookingFactory.create_batch(2)
    PaymentFactory(status="completed", amount="1400.00")  # a third booking
    replicate()
    PaymentFactory(status="completed", amount="900.00")  # on the primary only, with its booking

    dashboard = as_admin.get("/api/stats/dashboard/").json()
    assert dashboard["bookings"]["total"] == 4
    assert dashboard["revenue"]["total"] == "2300.00"
    assert as_admin.get("/api/stats/revenue/?period=month").json()["total"] == "2300.00"


@needs_replica
@pytest.mark.django_db(databases="__all__")
def test_an_actions_response_and_details_read_the_primary(as_driver, client_user):
    booking = BookingFactory(user=client_user)
    replicate()  # the replica holds it pending
    response = as_driver.post(f"/api/bookings/{booking.pk}/accept/")
    assert (response.status_code, response.json()["status"]) == (200, "confirmed")
    assert as_driver.get(f"/api/bookings/{booking.pk}/").json()["status"] == "confirmed"  # read-your-write
    assert Booking.objects.using("replica").get(pk=booking.pk).status == "pending"
    assert [b["status"] for b in as_driver.get("/api/bookings/").json()["results"]] == ["pending"]  # the lag
    replicate()
    assert [b["status"] for b in as_driver.get("/api/bookings/").json()["results"]] == ["confirmed"]


@needs_replica
@pytest.mark.django_db(transaction=True, databases="__all__")  # committed rows, as in production
def test_committed_writes_reach_lists_once_the_replica_catches_up(as_admin, client_user):
    booking = BookingFactory(user=client_user)
    assert as_admin.get("/api/bookings/").json()["results"] == []
    replicate()
    assert [b["id"] for b in as_admin.get("/api/bookings/").json()["results"]] == [booking.pk]
    assert as_admin.get("/api/stats/dashboard/").json()["bookings"]["total"] == 1
