"""The admin index is the dashboard, built from the cached selectors."""

import pytest
from django.urls import reverse

from demo.factories import AdminFactory, BookingFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(AdminFactory())
    return client


def test_dashboard_shows_kpis_and_three_charts(staff):
    PaymentFactory(booking=BookingFactory(status="pending"), status="completed")
    html = staff.get(reverse("admin:index")).content.decode()
    assert 'id="wemoov-dashboard"' in html
    assert html.count('<svg class="wm-chart') == 3
    assert "<title>" in html
    assert "Revenue this month" in html
    assert "1\u202f400.00" in html  # the completed payment, in the KPI card


def test_dashboard_period_switch(staff):
    html = staff.get(reverse("admin:index") + "?period=day").content.decode()
    assert "Revenue per hour" in html
    html = staff.get(reverse("admin:index") + "?period=nonsense").content.decode()
    assert "Revenue per day" in html


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
