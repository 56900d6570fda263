"""A real headless Chromium logs into the admin, opens the dashboard, finds the charts drawn
and no console error, and saves a screenshot under the test run's temporary directory.

Set WEMOOV_DASHBOARD_SCREENSHOT=path to also write the screenshot there (docs/dashboard.png
is made that way, with demo data)."""

import os
import shutil

import pytest
from django.core.management import call_command

from demo.factories import PASSWORD, AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_renders_charts_without_console_errors(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    call_command("seed_demo", users=300, drivers=30, vehicles=40, bookings=4000, payments=3600, no_progress=True)
    AdminFactory(email="staff@example.com")

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("staff@example.com")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    dashboard = browser.find_element(By.ID, "wemoov-dashboard")
    assert len(dashboard.find_elements(By.CSS_SELECTOR, "#wm-revenue svg rect.wm-bar")) == 30
    assert dashboard.find_elements(By.CSS_SELECTOR, "#wm-status svg circle.wm-slice")
    assert dashboard.find_elements(By.CSS_SELECTOR, "#wm-service svg circle.wm-slice")
    heights = [float(r.get_attribute("height")) for r in dashboard.find_elements(By.CSS_SELECTOR, "rect.wm-bar")]
    assert max(heights) > 50, "the revenue bars are drawn with real heights"
    first_bar = dashboard.find_element(By.CSS_SELECTOR, "rect.wm-bar")
    assert first_bar.size["width"] > 0

    browser.find_element(By.LINK_TEXT, "year").click()
    bars = "#wm-revenue svg rect.wm-bar"
    # Wait for the new page: right after the click the old one may still be in the DOM.
    WebDriverWait(browser, 10).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, bars)) == 12)

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []

    shot = tmp_path / "dashboard.png"
    browser.find_element(By.LINK_TEXT, "month").click()
    WebDriverWait(browser, 10).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, bars)) == 30)
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    if target := os.environ.get("WEMOOV_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, target)
