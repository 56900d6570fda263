"""The admin index is the dashboard, built from the cached selectors: its cards and charts
show the figures of the data (read from the rendered SVG: bars, slices and their tooltips)."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from demo.factories import AdminFactory, BookingFactory, PaymentFactory
from payments.models import Payment

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def staff(client):
    client.force_login(AdminFactory())
    return client


def _charts(html: str) -> dict[str, ET.Element]:
    """The page's SVG charts, parsed, by their accessible name."""
    svgs = [ET.fromstring(svg) for svg in re.findall(r'<svg class="wm-chart.*?</svg>', html, re.DOTALL)]
    return {svg.get("aria-label"): svg for svg in svgs}


def _marks(chart: ET.Element, shape: str, css_class: str) -> list[tuple[str, ET.Element]]:
    """Each bar or slice of a chart with its tooltip (the `<title>` a browser shows on hover)."""
    return [
        (mark.findtext(f"{SVG}title"), mark) for mark in chart.iter(f"{SVG}{shape}") if mark.get("class") == css_class
    ]


def _booking(service_type: str, status: str, *, price: str = "1400.00", paid: str | None = None, days_ago: int = 0):
    booking = BookingFactory(service_type=service_type, status=status, price=Decimal(price))
    if paid:
        payment = PaymentFactory(booking=booking, status=paid)
        Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(days=days_ago))


@pytest.fixture
def five_bookings():
    """3 pending and 2 cancelled; 3 rides, 1 delivery, 1 rental. Completed payments: 1400 and
    600 today, 500 yesterday; a failed payment of 999 counts nowhere."""
    _booking("ride", "pending", price="1400.00", paid="completed")
    _booking("ride", "pending", price="600.00", paid="completed")
    _booking("ride", "pending")
    _booking("delivery", "cancelled", price="500.00", paid="completed", days_ago=1)
    _booking("rental", "cancelled", price="999.00", paid="failed")


def test_the_status_and_service_donuts_show_the_counts(staff, five_bookings):
    charts = _charts(staff.get(reverse("admin:index")).content.decode())
    assert set(charts) == {"Revenue per day", "Bookings by status", "Bookings by service type"}

    slices = dict(_marks(charts["Bookings by status"], "circle", "wm-slice"))
    assert set(slices) == {"pending: 3", "cancelled: 2"}  # statuses without bookings have no slice
    arc = {tip: float(s.get("stroke-dasharray").split()[0]) for tip, s in slices.items()}
    assert arc["pending: 3"] / arc["cancelled: 2"] == pytest.approx(3 / 2, rel=1e-3)
    assert charts["Bookings by status"].findtext(f"{SVG}text[@class='wm-total']") == "5"

    slices = dict(_marks(charts["Bookings by service type"], "circle", "wm-slice"))
    assert set(slices) == {"ride: 3", "delivery: 1", "rental: 1"}
    arc = {tip: float(s.get("stroke-dasharray").split()[0]) for tip, s in slices.items()}
    assert arc["ride: 3"] / arc["delivery: 1"] == pytest.approx(3, rel=1e-3)
    assert arc["delivery: 1"] == pytest.approx(arc["rental: 1"])


def test_the_revenue_chart_has_a_bar_per_day_with_the_completed_payments(staff, five_bookings):
    html = staff.get(reverse("admin:index")).content.decode()
    bars = _marks(_charts(html)["Revenue per day"], "rect", "wm-bar")
    today = timezone.localtime()
    yesterday = today - timedelta(days=1)
    assert len(bars) == 30
    assert bars[-1][0] == f"{today:%d %b}: 2000.00 XOF (2 payments)"
    assert bars[-2][0] == f"{yesterday:%d %b}: 500.00 XOF (1 payments)"
    assert all(tip.endswith(": 0.00 XOF (0 payments)") for tip, _ in bars[:-2])
    heights = [float(bar.get("height")) for _, bar in bars]
    assert heights[:-2] == [0.0] * 28
    assert heights[-1] / heights[-2] == pytest.approx(2000 / 500, rel=1e-2)
    assert "Revenue (2\u202f500.00 XOF, 3 payments)" in html

    # The card: completed payments of the current month (yesterday may be last month).
    this_month = "2\u202f500.00" if yesterday.month == today.month else "2\u202f000.00"
    card = re.search(r"<h3>Revenue this month</h3><div class=\"wm-value\">([^<]*)</div>", html)
    assert card.group(1) == this_month


def test_dashboard_period_switch(staff, five_bookings):
    html = staff.get(reverse("admin:index") + "?period=day").content.decode()
    bars = _marks(_charts(html)["Revenue per hour"], "rect", "wm-bar")
    assert len(bars) == 24
    assert bars[-1][0].endswith(": 2000.00 XOF (2 payments)")
    html = staff.get(reverse("admin:index") + "?period=nonsense").content.decode()
    assert "Revenue per day" in _charts(html)


def test_dashboard_costs_three_aggregate_queries_cold_and_none_warm(staff, django_assert_num_queries):
    # session + user, then dashboard + revenue(month) + revenue(year) cold, then the
    # "recent actions" sidebar. Warm: the three statistics come from the cache.
    with django_assert_num_queries(6):
        staff.get(reverse("admin:index"))
    with django_assert_num_queries(3):
        staff.get(reverse("admin:index"))


def test_refresh_button_drops_statistics(staff):
    staff.get(reverse("admin:index"))
    response = staff.post(reverse("admin:stats_refresh"))
    assert response.status_code == 302
    html = staff.get(reverse("admin:index")).content.decode()
    assert "MISS" in html


def test_refresh_needs_post_and_staff(client, staff):
    assert staff.get(reverse("admin:stats_refresh")).status_code == 405
    client.logout()
    assert client.post(reverse("admin:stats_refresh")).status_code == 302  # to the login page
