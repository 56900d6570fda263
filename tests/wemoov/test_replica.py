"""DATABASE_REPLICA_URL: statistics and list reads go to the replica, writes and the reads
that must see them to the primary. CI runs this file with the replica alias pointed at the
same PostgreSQL server (a test mirror); without a replica every read uses the primary."""

import pytest
from django.conf import settings
from rest_framework.test import APIRequestFactory, force_authenticate

from bookings.api import BookingViewSet
from demo.factories import BookingFactory
from payments.api import PaymentViewSet
from stats.selectors import dashboard_rows
from users.api import UserViewSet
from wemoov.db_routers import ReplicaRouter, read_db

pytestmark = pytest.mark.django_db(databases="__all__")

EXPECTED_READ_DB = "replica" if "replica" in settings.DATABASES else "default"


def _queryset_db(viewset, action: str, user, **kwargs) -> str:
    request = APIRequestFactory().get("/")
    force_authenticate(request, user=user)
    view = viewset(action_map={"get": action})
    view.action, view.format_kwarg, view.kwargs, view.args = action, None, kwargs, ()
    view.request = view.initialize_request(request)
    return view.filter_queryset(view.get_queryset()).db


@pytest.mark.parametrize("viewset", [BookingViewSet, PaymentViewSet, UserViewSet])
def test_lists_read_from_the_replica_and_details_from_the_primary(viewset, admin_user):
    assert _queryset_db(viewset, "list", admin_user) == EXPECTED_READ_DB
    assert _queryset_db(viewset, "retrieve", admin_user) == "default"


def test_statistics_read_from_the_replica():
    assert dashboard_rows().db == EXPECTED_READ_DB
    assert read_db() == EXPECTED_READ_DB


def test_the_router_sends_writes_and_migrations_to_the_primary():
    router = ReplicaRouter()
    assert router.db_for_write(None) == "default"
    assert router.db_for_read(None) is None  # the primary unless a queryset names the replica
    assert router.allow_migrate("default", "bookings") is True
    assert router.allow_migrate("replica", "bookings") is False


def test_an_actions_response_reads_the_primary(as_driver, client_user):
    booking = BookingFactory(user=client_user)
    response = as_driver.post(f"/api/bookings/{booking.pk}/accept/")
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"  # read-your-write


@pytest.mark.django_db(transaction=True, databases="__all__")  # committed rows: the replica is another connection
def test_lists_work_end_to_end_through_the_replica(as_admin, client_user):
    booking = BookingFactory(user=client_user)
    assert [b["id"] for b in as_admin.get("/api/bookings/").json()["results"]] == [booking.pk]
    assert as_admin.get("/api/stats/dashboard/").json()["bookings"]["total"] == 1
