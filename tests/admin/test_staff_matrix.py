"""The permission matrix of the admin, generated from users.access: every admin action
(ADMIN_ACTIONS, both steps of a confirmed one), every page (ADMIN_PAGES) and every registered
model's list x {no permission, every other permission, another group, the right permission,
superuser}, through the test client with a real login and CSRF. A refused request answers
403 and changes nothing; the action, link or button is not offered to whoever may not use it.
An action needs its permission and the list's view permission (its rows are picked there). A
mapped door without a recipe here fails: add one."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.contrib import admin

from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from tests.admin.conftest import StaffBrowser, login
from tests.users.staff import REFUSED, callers_for, changed_tables, make_caller, snapshot
from users import access

pytestmark = pytest.mark.django_db


def _completed_payment():
    vehicle = VehicleFactory()
    booking = BookingFactory(status="completed", driver=vehicle.driver, vehicle=vehicle)
    return PaymentFactory(booking=booking, status="completed")


@dataclass(frozen=True)
class ActionRecipe:
    target: object  # () -> the row the action is run on


ACTION_RECIPES = {
    ("users.user", "deactivate_users"): ActionRecipe(lambda: ClientFactory()),
    ("users.user", "activate_users"): ActionRecipe(lambda: ClientFactory(is_active=False)),
    ("users.user", "delete_selected"): ActionRecipe(lambda: ClientFactory()),
    ("bookings.booking", "cancel_bookings"): ActionRecipe(lambda: BookingFactory()),
    ("payments.payment", "confirm_payments"): ActionRecipe(lambda: PaymentFactory()),
    ("payments.payment", "fail_payments"): ActionRecipe(lambda: PaymentFactory()),
    ("payments.payment", "refund_payments"): ActionRecipe(lambda: _completed_payment()),
    ("fleet.driver", "delete_selected"): ActionRecipe(lambda: DriverFactory()),
    ("fleet.vehicle", "delete_selected"): ActionRecipe(lambda: VehicleFactory(driver=None)),
}


@dataclass(frozen=True)
class PageRecipe:
    path: str  # with {booking}
    get: bool  # the page has a GET of its own (a form)
    post: dict = field(default_factory=dict)  # with {driver}
    shown_on: str = ""  # the page that links to it (its marker below)
    marker: str = ""  # what that page shows only to whoever may open this one


PAGE_RECIPES = {
    "bookings_booking_assign": PageRecipe(
        "/admin/bookings/booking/{booking}/assign/",
        get=True,
        post={"driver": "{driver}"},
        shown_on="/admin/bookings/booking/{booking}/change/",
        marker='id="assign-driver"',
    ),
    "stats_refresh": PageRecipe("/admin/stats/refresh/", get=False, shown_on="/admin/", marker='id="wm-refresh"'),
}


def changelist(label: str) -> str:
    app_label, model_name = label.split(".")
    return f"/admin/{app_label}/{model_name}/"


def browser_for(caller: str, needed: set[str], *, extra: set[str] = frozenset()) -> StaffBrowser:
    # The right permission comes with what the door needs to be reached at all (``extra``).
    user = make_caller(caller, needed | extra if caller == "right permission" else needed, email="caller@example.com")
    response, client = login(user.email)
    assert response.status_code == 302, response.content[:300]
    return StaffBrowser(client)


# The CSV exports (`export_csv`, and their pages in ADMIN_VIEWS) download at once, with no
# confirmation step: tests/admin/test_exports.py walks their permissions on every list.
EXPORTS = {key for key in access.ADMIN_ACTIONS if key[1] == "export_csv"}
ACTION_CASES = [
    (key, caller)
    for key, permission in access.ADMIN_ACTIONS.items()
    if key not in EXPORTS
    for caller in callers_for({permission})
]
PAGE_CASES = [(name, caller) for name, permission in access.ADMIN_PAGES.items() for caller in callers_for({permission})]


def test_every_mapped_admin_door_has_a_recipe():
    assert sorted(set(access.ADMIN_ACTIONS) - set(ACTION_RECIPES) - EXPORTS) == []
    assert sorted(set(access.ADMIN_PAGES) - set(PAGE_RECIPES)) == []


@pytest.mark.parametrize(("key", "caller"), ACTION_CASES, ids=[f"{m}.{a} | {c}" for (m, a), c in ACTION_CASES])
def test_admin_action_needs_its_permission_on_both_steps(key, caller):
    label, action = key
    needed = {access.ADMIN_ACTIONS[key]}
    app_label, model_name = label.split(".")
    recipe = ACTION_RECIPES[key]
    target = recipe.target()
    staff = browser_for(caller, needed, extra={f"{app_label}.view_{model_name}"})
    url = changelist(label)
    selection = {"action": action, "_selected_action": [str(target.pk)]}
    before = snapshot()

    listed = staff.get(url)
    first = staff.post(url, {**selection, "index": "0"})
    second = staff.post(url, {**selection, "post": "yes"})

    offered = f'value="{action}"'.encode() in listed.content
    if caller in REFUSED:
        assert not offered
        assert (first.status_code, second.status_code) == (403, 403)
        assert changed_tables(before, snapshot()) == []
    else:
        assert listed.status_code == 200
        assert offered
        assert first.status_code == 200
        assert b'name="post" value="yes"' in first.content, "the confirmation page"
        assert second.status_code == 302
        assert changed_tables(before, snapshot()) != [], "the action was let through but did nothing"


@pytest.mark.parametrize(("name", "caller"), PAGE_CASES, ids=[f"{n} | {c}" for n, c in PAGE_CASES])
def test_admin_page_needs_its_permission_and_is_linked_only_for_those_who_hold_it(name, caller, driver):
    needed = {access.ADMIN_PAGES[name]}
    recipe = PAGE_RECIPES[name]
    ids = {"booking": BookingFactory().pk, "driver": driver.pk}
    staff = browser_for(caller, needed)
    before = snapshot()
    got = staff.get(recipe.path.format(**ids)) if recipe.get else None
    posted = staff.post(recipe.path.format(**ids), {k: v.format(**ids) for k, v in recipe.post.items()})
    if caller in REFUSED:
        assert (got.status_code if got else 403, posted.status_code) == (403, 403)
        assert changed_tables(before, snapshot()) == []
    else:
        assert (got.status_code if got else 200, posted.status_code) == (200, 302)
        assert changed_tables(before, snapshot()) != [], "the page was let through but did nothing"


@pytest.mark.parametrize("name", list(access.ADMIN_PAGES))
@pytest.mark.parametrize("holds", [False, True])
def test_the_link_to_an_admin_page_is_shown_only_to_those_who_may_open_it(name, holds, driver):
    recipe = PAGE_RECIPES[name]
    needed = {access.ADMIN_PAGES[name]}
    seeing = {"bookings.view_booking"}  # enough to see the page that links to it
    permissions = (needed if holds else set()) | seeing
    staff = browser_for("right permission", permissions)
    page = staff.get(recipe.shown_on.format(booking=BookingFactory().pk))
    assert page.status_code == 200
    assert (recipe.marker.encode() in page.content) is holds


# The export records are superusers' alone (tests/admin/test_exports.py).
MODELS = sorted(
    f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry if m._meta.label != "wemoov.ExportRecord"
)


@pytest.mark.parametrize("label", MODELS)
@pytest.mark.parametrize("caller", ["no permission", "other permissions", "view permission", "superuser"])
def test_every_admin_list_needs_its_view_permission(label, caller):
    app_label, model_name = label.split(".")
    view = access.ADMIN_LISTS.get(label, f"{app_label}.view_{model_name}")
    # Django's change permission opens the list too: "other permissions" holds neither.
    opening = {view, f"{app_label}.change_{model_name}"}
    if caller == "view permission":
        user = make_caller("right permission", {view}, email="caller@example.com")
    else:
        user = make_caller(caller, opening, email="caller@example.com")
    response, client = login(user.email)
    assert response.status_code == 302
    status = client.get(changelist(label)).status_code
    assert status == (403 if caller in ("no permission", "other permissions") else 200)
