"""A real headless Chromium: staff log in, select a paid booking on the changelist, run
"cancel", confirm, and see on the booking's page that it is cancelled and its payment
refunded, with the history saying who did it and through what."""

import pytest

from demo.factories import (
    PASSWORD,
    AdminFactory,
    BookingFactory,
    ClientFactory,
    DriverFactory,
    PaymentFactory,
    VehicleFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_cancel_a_paid_booking_from_the_changelist_and_see_the_refund(live_server, browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    AdminFactory(email="staff@example.com")
    driver = DriverFactory()
    booking = BookingFactory(
        user=ClientFactory(email="rider@example.com"),
        driver=driver,
        vehicle=VehicleFactory(driver=driver),
        status="confirmed",
    )
    payment = PaymentFactory(booking=booking, status="completed")

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("staff@example.com")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.ID, "wemoov-dashboard")

    browser.get(f"{live_server.url}/admin/bookings/booking/?q=rider@example.com")
    badge = browser.find_element(By.CSS_SELECTOR, "#result_list .wemoov-badge")
    assert badge.get_attribute("data-status") == "confirmed"
    browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{booking.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("cancel_bookings")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()

    browser.find_element(By.ID, "id_reason").send_keys("refund requested by phone")
    browser.find_element(By.ID, "confirm-action").click()
    # The confirmation posts and the page changes under the wait: a body found on the old page
    # goes stale before its text is read, so look again.
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: "1 booking cancelled." in b.find_element(By.TAG_NAME, "body").text
    )

    browser.get(f"{live_server.url}/admin/bookings/booking/{booking.pk}/change/")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "refund requested by phone" in page
    statuses = [b.get_attribute("data-status") for b in browser.find_elements(By.CSS_SELECTOR, ".wemoov-badge")]
    assert statuses == ["cancelled", "refunded"]  # the booking's badge, then its payment's
    assert "confirmed → cancelled by staff@example.com (admin)" in page
    browser.get(f"{live_server.url}/admin/payments/payment/{payment.pk}/change/")
    assert "completed → refunded by staff@example.com (admin)" in browser.find_element(By.TAG_NAME, "body").text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
