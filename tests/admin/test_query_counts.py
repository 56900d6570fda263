"""Every admin page runs a constant number of queries, whatever the number of rows, inline
rows or search results (the changelists' count is capped and unordered, see
wemoov.admin.CappedCountPaginator)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def _count(staff, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = staff.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


def _data(client_user, driver, n):
    vehicle = driver.vehicles.get()
    for _ in range(n):
        booking = BookingFactory(user=client_user, driver=driver, vehicle=vehicle, status="confirmed")
        PaymentFactory(booking=booking)
        PaymentFactory(booking=booking, status="failed")
    for _ in range(n):
        VehicleFactory(driver=DriverFactory())
        ClientFactory()


PAGES = [
    # (path, pinned queries: session, user, then the page's own)
    ("/admin/bookings/booking/", 4),
    ("/admin/bookings/booking/?status__exact=confirmed", 4),
    ("/admin/bookings/booking/?service_type__exact=ride", 4),
    ("/admin/bookings/booking/?created_at__gte=2000-01-01+00:00:00%2B00:00", 4),
    ("/admin/bookings/booking/?q=client@example.com", 4),
    ("/admin/bookings/booking/?q=%2B225", 4),
    ("/admin/bookings/booking/?user__id__exact={client}", 4),
    ("/admin/bookings/booking/?driver__id__exact={driver}", 4),
    ("/admin/payments/payment/", 4),
    ("/admin/payments/payment/?status__exact=pending", 4),
    ("/admin/payments/payment/?q=client@", 4),
    ("/admin/users/user/", 4),
    ("/admin/users/user/?q=client@example.com", 4),
    ("/admin/users/user/?q=Smith", 4),
    ("/admin/users/user/?role__exact=driver&is_active__exact=1", 4),
    ("/admin/fleet/driver/", 4),
    ("/admin/fleet/vehicle/", 4),
    # change pages: the object and its relations, each inline's rows
    ("/admin/bookings/booking/{booking}/change/", 9),  # + payments inline, status history inline
    ("/admin/payments/payment/{payment}/change/", 6),  # + provider events inline, status history inline
    ("/admin/payments/providerevent/", 4),
    ("/admin/payments/providerevent/?outcome__exact=mismatch", 4),
    ("/admin/users/user/{client}/change/", 7),
    ("/admin/fleet/driver/{driver}/change/", 5),
]


@pytest.mark.parametrize(("path", "pinned"), PAGES)
def test_admin_page_query_counts_are_pinned_and_constant(staff, client_user, driver, admin_user, path, pinned):
    def ids():
        booking = client_user.bookings.order_by("pk").first()
        return {
            "client": client_user.pk,
            "driver": driver.pk,
            "booking": booking.pk,
            "payment": booking.payments.order_by("pk").first().pk,
        }

    _data(client_user, driver, 2)
    booking = client_user.bookings.order_by("pk").first()
    from bookings.services import booking_complete, booking_start
    from payments.services import payment_confirm, payment_refund

    booking_start(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")  # one history row
    staff.get(path.format(**ids()))  # content types are cached per process after a first look
    few = _count(staff, path.format(**ids()))
    _data(client_user, driver, 20)
    PaymentFactory.create_batch(5, booking=booking, status="failed")  # more inline rows
    booking_complete(booking_id=booking.pk, driver=driver, actor=driver.user, via="api")  # more history
    first = booking.payments.order_by("pk").first()
    payment_confirm(payment_id=first.pk, actor=admin_user, via="admin")
    payment_refund(payment_id=first.pk, actor=admin_user, via="admin")
    many = _count(staff, path.format(**ids()))
    assert (few, many) == (pinned, pinned)
