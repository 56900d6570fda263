"""A real headless Chromium: a superuser creates a staff member and gives them a group with the
add page's two-box picker (Django's SelectFilter, which only works with its JavaScript)."""

import pytest
from django.contrib.auth.models import Group

from demo.factories import PASSWORD, AdminFactory
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_superuser_gives_a_new_staff_member_a_group_with_the_picker(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    AdminFactory(email="boss@example.com")
    support = Group.objects.get_or_create(name="Support")[0]
    Group.objects.get_or_create(name="Finance")

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("boss@example.com")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.ID, "wemoov-dashboard")

    browser.get(f"{live_server.url}/admin/users/user/add/")
    browser.find_element(By.NAME, "email").send_keys("new-staff@example.com")
    Select(browser.find_element(By.NAME, "role")).select_by_value(Role.ADMIN)
    browser.find_element(By.NAME, "password1").send_keys(PASSWORD)
    browser.find_element(By.NAME, "password2").send_keys(PASSWORD)
    # The picker's "available" box (built by SelectFilter2.js), then its arrow to "chosen".
    Select(browser.find_element(By.ID, "id_groups_from")).select_by_visible_text("Support")
    browser.find_element(By.ID, "id_groups_add").click()
    assert [o.text for o in Select(browser.find_element(By.ID, "id_groups_to")).options] == ["Support"]
    browser.find_element(By.NAME, "_save").click()
    browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success")

    created = User.objects.get(email="new-staff@example.com")
    assert (created.is_staff, created.is_superuser, list(created.groups.all())) == (True, False, [support])
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
