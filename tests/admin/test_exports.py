"""The lists' CSV exports as staff use them: `<list URL>export/?<query string>` and the
`export_csv` action, checked against SQL written here (not the code under test), the
contract's format, the export permissions, and the audit record."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection

from bookings.serializers import BookingSerializer
from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, UserFactory, VehicleFactory
from fleet.serializers import DriverSerializer, VehicleSerializer
from payments.serializers import PaymentSerializer
from tests.admin.conftest import StaffBrowser, login
from users.access import ADMIN_ACTIONS, ADMIN_VIEWS, EXPORT_PERMISSIONS
from users.models import User
from users.serializers import UserSerializer
from wemoov.models import ExportRecord

pytestmark = pytest.mark.django_db

LISTS = {
    # changelist, model label, its view permission
    "bookings": ("/admin/bookings/booking/", "bookings.booking", "bookings.view_booking"),
    "payments": ("/admin/payments/payment/", "payments.payment", "payments.view_payment"),
    "users": ("/admin/users/user/", "users.user", "users.view_user"),
    "drivers": ("/admin/fleet/driver/", "fleet.driver", "fleet.view_driver"),
    "vehicles": ("/admin/fleet/vehicle/", "fleet.vehicle", "fleet.view_vehicle"),
}
TABLES = {
    "bookings": "bookings_booking",
    "payments": "payments_payment",
    "users": "users_user",
    "drivers": "fleet_driver",
    "vehicles": "fleet_vehicle",
}


def parse(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "a UTF-8 byte order mark, for Excel"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def sql_ids(query: str, params=()) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [row[0] for row in cursor.fetchall()]


def staff_with(*permissions: str) -> StaffBrowser:
    user = UserFactory(email=f"staff-{len(permissions)}-{User.objects.count()}@example.com", role="admin")
    user.is_staff = True
    user.save()
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    response, client = login(user.email)
    assert response.status_code == 302
    return StaffBrowser(client)


@pytest.fixture
def data(client_user, other_client_user, driver):
    """Bookings and payments of two clients, another driver, another vehicle."""
    vehicle = driver.vehicles.get()
    ana = ClientFactory(email="ana@example.com", first_name="Ana", last_name="Diop", phone="+221770000001")
    rows = []
    for user, status in [
        (client_user, "pending"),
        (client_user, "completed"),
        (ana, "completed"),
        (ana, "cancelled"),
        (other_client_user, "completed"),
        (ana, "pending"),
    ]:
        extra = {"driver": driver, "vehicle": vehicle} if status == "completed" else {}
        booking = BookingFactory(user=user, status=status, **extra)
        PaymentFactory(booking=booking, status="completed" if status == "completed" else "pending")
        rows.append(booking)
    VehicleFactory(driver=DriverFactory(is_available=False), type="van")
    return {"ana": ana, "bookings": rows}


# --- every list, the whole list -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LISTS))
def test_each_list_exports_every_row_in_primary_key_order_as_sql_finds_them(staff, data, name):
    changelist, label, _ = LISTS[name]
    response = staff.get(f"{changelist}export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    model_name = label.split(".")[1]
    assert re.fullmatch(rf'attachment; filename="{model_name}-\d{{8}}T\d{{6}}Z\.csv"', response["Content-Disposition"])
    rows = parse(response)
    assert [int(r["id"]) for r in rows] == sql_ids(f"SELECT id FROM {TABLES[name]} ORDER BY id")


def _flat(data: dict) -> dict:
    """A serializer's output as CSV cells: nested objects flattened (`user_first_name`),
    null an empty cell, booleans as JSON spells them, numbers as JSON writes them."""
    cells = {}
    for key, value in data.items():
        if isinstance(value, dict):
            cells |= {f"{key}_{k}": v for k, v in _flat(value).items()}
        elif value is None:
            cells[key] = ""
        elif isinstance(value, bool):
            cells[key] = "true" if value else "false"
        else:
            cells[key] = str(value)
    return cells


def test_columns_and_values_are_the_apis_with_user_email_for_bookings_and_payments(staff, data, driver):
    booking = data["bookings"][1]
    booking.rating = 4
    booking.save()
    payment = booking.payments.get()
    vehicle = driver.vehicles.get()
    expected = {
        "bookings": (BookingSerializer(booking).data, {"user_email": booking.user.email}),
        "payments": (PaymentSerializer(payment).data, {"user_email": payment.user.email}),
        "users": (UserSerializer(data["ana"]).data, {}),
        "drivers": (DriverSerializer(driver).data, {}),
        "vehicles": (VehicleSerializer(vehicle).data, {}),
    }
    ids = {"bookings": booking.pk, "payments": payment.pk, "users": data["ana"].pk, "drivers": driver.pk}
    ids["vehicles"] = vehicle.pk
    for name, (api, extra) in expected.items():
        rows = parse(staff.get(f"{LISTS[name][0]}export/"))
        row = next(r for r in rows if int(r["id"]) == ids[name])
        cells = _flat(dict(api)) | extra
        if name == "users":
            cells["phone"] = "'" + cells["phone"]  # "+221...": a cell a spreadsheet reads as a formula
        assert list(row) == list(cells), name  # the API's fields in the contract's order, then user_email
        assert row == cells, name
    assert row["created_at"].endswith("Z")


# --- filters, search, selection ---------------------------------------------------------
def test_bookings_export_is_what_the_filtered_and_searched_list_shows(staff, data):
    rows = parse(staff.get("/admin/bookings/booking/export/?status__exact=completed&q=ana%40"))
    expected = sql_ids(
        "SELECT b.id FROM bookings_booking b JOIN users_user u ON u.id = b.user_id "
        "WHERE b.status = 'completed' AND u.email LIKE 'ana@%%' ORDER BY b.id"
    )
    assert len(expected) == 1
    assert [int(r["id"]) for r in rows] == expected
    assert {r["user_email"] for r in rows} == {"ana@example.com"}
    listed = staff.get("/admin/bookings/booking/?status__exact=completed&q=ana%40")
    assert sorted(o.pk for o in listed.context["cl"].result_list) == expected  # what the list shows


def test_payments_export_follows_status_filter_and_phone_search(staff, data):
    rows = parse(staff.get("/admin/payments/payment/export/?status__exact=pending&q=%2B22177"))
    expected = sql_ids(
        "SELECT p.id FROM payments_payment p JOIN users_user u ON u.id = p.user_id "
        "WHERE p.status = 'pending' AND u.phone LIKE '+22177%%' ORDER BY p.id"
    )
    assert len(expected) == 2
    assert [int(r["id"]) for r in rows] == expected


def test_users_drivers_and_vehicles_exports_follow_their_filters_and_search(staff, data):
    users = parse(staff.get("/admin/users/user/export/?role__exact=client&q=Dio"))
    assert [int(r["id"]) for r in users] == sql_ids(
        "SELECT id FROM users_user WHERE role = 'client' AND (email LIKE 'dio%%' OR UPPER(first_name) LIKE '%%DIO%%' "
        "OR UPPER(last_name) LIKE '%%DIO%%') ORDER BY id"
    )
    assert len(users) >= 1
    drivers = parse(staff.get("/admin/fleet/driver/export/?is_available__exact=0"))
    assert [int(r["id"]) for r in drivers] == sql_ids("SELECT id FROM fleet_driver WHERE NOT is_available ORDER BY id")
    assert len(drivers) == 1
    vehicles = parse(staff.get("/admin/fleet/vehicle/export/?type__exact=van"))
    assert [int(r["id"]) for r in vehicles] == sql_ids("SELECT id FROM fleet_vehicle WHERE type = 'van' ORDER BY id")
    assert len(vehicles) == 1


def test_a_client_link_from_the_user_page_exports_that_clients_bookings(staff, data):
    ana = data["ana"]
    rows = parse(staff.get(f"/admin/bookings/booking/export/?user__id__exact={ana.pk}"))
    assert [int(r["id"]) for r in rows] == sql_ids(
        "SELECT id FROM bookings_booking WHERE user_id = %s ORDER BY id", [ana.pk]
    )


def test_export_csv_action_exports_the_ticked_rows_only(staff, data):
    ticked = [data["bookings"][4].pk, data["bookings"][0].pk]
    response = staff.post(
        "/admin/bookings/booking/?status__exact=completed",
        {"action": "export_csv", "_selected_action": [str(i) for i in ticked], "index": "0"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = parse(response)
    # The ticked rows that the list (filtered to completed) holds, as Django's actions select them.
    expected = sql_ids(
        "SELECT id FROM bookings_booking WHERE id IN (%s, %s) AND status = 'completed' ORDER BY id", ticked
    )
    assert [int(r["id"]) for r in rows] == expected == [data["bookings"][4].pk]
    record = ExportRecord.objects.get()
    assert record.selected_ids == sorted(ticked)
    assert record.query_string == "status__exact=completed"
    assert record.row_count == 1


def test_export_csv_action_with_select_all_exports_the_whole_filtered_list(staff, data):
    response = staff.post(
        "/admin/payments/payment/?status__exact=completed",
        {"action": "export_csv", "_selected_action": ["1"], "select_across": "1", "index": "0"},
    )
    rows = parse(response)
    assert [int(r["id"]) for r in rows] == sql_ids(
        "SELECT id FROM payments_payment WHERE status = 'completed' ORDER BY id"
    )
    assert ExportRecord.objects.get().selected_ids is None


def test_changelist_link_carries_the_lists_query_string(staff, data):
    page = staff.get("/admin/bookings/booking/?status__exact=completed&q=ana%40")
    assert b'href="/admin/bookings/booking/export/?status__exact=completed&amp;q=ana%40"' in page.content
    assert b'<option value="export_csv">' in page.content
    assert b'href="/admin/fleet/vehicle/export/"' in staff.get("/admin/fleet/vehicle/").content


# --- format: quoting and formulas -----------------------------------------------------------
def test_quoting_is_rfc_4180_and_formulas_are_neutralised(staff, db):
    tricky = UserFactory(
        email="=cmd@example.com",
        first_name='=HYPERLINK("http://evil.example","x")',
        last_name='Diop, "the elder"\r\nline two',
        phone="-1+1",
    )
    others = [
        UserFactory(first_name="@SUM(A1)", last_name="\tTab", phone="+221 77"),
        UserFactory(first_name="\rCR", last_name="Zoé ünïcode ✓", phone=""),
    ]
    body = b"".join(staff.get("/admin/users/user/export/").streaming_content)
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    assert text.count("\r\n") >= 4
    assert '"\'Diop, ""the elder""\r\nline two"' not in text  # that cell does not begin with a formula sign
    assert '"Diop, ""the elder""\r\nline two"' in text  # quoted, quotes doubled, line break kept
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(text, newline=""))}
    row = rows[tricky.pk]
    assert row["email"] == "'=cmd@example.com"
    assert row["first_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["last_name"] == 'Diop, "the elder"\r\nline two'
    assert row["phone"] == "'-1+1"
    assert (rows[others[0].pk]["first_name"], rows[others[0].pk]["last_name"]) == ("'@SUM(A1)", "'\tTab")
    assert rows[others[0].pk]["phone"] == "'+221 77"
    assert (rows[others[1].pk]["first_name"], rows[others[1].pk]["last_name"]) == ("'\rCR", "Zoé ünïcode ✓")
    assert rows[others[1].pk]["phone"] == ""
    for cell in (c for r in rows.values() for c in r.values()):
        assert cell[:1] not in {"=", "+", "@", "\t", "\r"}, cell


def test_numbers_are_written_as_the_api_writes_them_not_neutralised(staff, client_user):
    booking = BookingFactory(user=client_user, pickup_lng=-17.4467, dropoff_lat=-0.5, price=Decimal("1250.5"))
    row = parse(staff.get("/admin/bookings/booking/export/"))[0]
    api = BookingSerializer(booking).data
    assert (row["pickup_lng"], row["dropoff_lat"], row["price"]) == ("-17.4467", "-0.5", "1250.50")
    assert row["price"] == api["price"]
    assert float(row["pickup_lng"]) == api["pickup_lng"]
    assert row["driver"] == ""
    assert row["rating"] == ""


# --- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    ["created_at__gte=not-a-date", "nonexistent_field=1", "status__exact=completed&user__id__exact=abc", "q=a%00b"],
)
def test_bad_filters_answer_400_and_record_nothing(staff, data, query):
    response = staff.get(f"/admin/bookings/booking/export/?{query}")
    assert response.status_code == 400
    assert ExportRecord.objects.count() == 0


def test_export_page_answers_only_get(staff, data):
    assert staff.post("/admin/bookings/booking/export/").status_code == 405
    assert ExportRecord.objects.count() == 0


# --- permissions ---------------------------------------------------------------------------
def test_the_access_map_lists_both_export_doors_of_every_list():
    for label, permission in EXPORT_PERMISSIONS.items():
        assert ADMIN_ACTIONS[(label, "export_csv")] == ADMIN_VIEWS[(label, "export")] == permission
    assert {label for label, _, _ in [(v[1], 0, 0) for v in LISTS.values()]} == set(EXPORT_PERMISSIONS)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_without_the_export_permission_no_link_no_action_403_and_nothing_recorded(data, name):
    changelist, label, view = LISTS[name]
    staff = staff_with(view, *[p for p in EXPORT_PERMISSIONS.values() if p != EXPORT_PERMISSIONS[label]])
    page = staff.get(changelist)
    assert page.status_code == 200
    assert b"export/" not in page.content
    assert b'value="export_csv"' not in page.content
    assert staff.get(f"{changelist}export/").status_code == 403
    any_id = sql_ids(f"SELECT id FROM {TABLES[name]} ORDER BY id LIMIT 1")
    forged = staff.post(changelist, {"action": "export_csv", "_selected_action": any_id, "index": "0"})
    assert forged.status_code == 403
    assert ExportRecord.objects.count() == 0


@pytest.mark.parametrize("name", sorted(LISTS))
def test_with_the_export_permission_the_link_the_action_and_the_export(data, name):
    changelist, label, view = LISTS[name]
    staff = staff_with(view, EXPORT_PERMISSIONS[label])
    page = staff.get(changelist)
    assert f'href="{changelist}export/"'.encode() in page.content
    assert b'<option value="export_csv">' in page.content
    rows = parse(staff.get(f"{changelist}export/"))
    assert [int(r["id"]) for r in rows] == sql_ids(f"SELECT id FROM {TABLES[name]} ORDER BY id")
    any_id = sql_ids(f"SELECT id FROM {TABLES[name]} ORDER BY id LIMIT 1")
    ticked = parse(staff.post(changelist, {"action": "export_csv", "_selected_action": any_id, "index": "0"}))
    assert [int(r["id"]) for r in ticked] == any_id
    assert ExportRecord.objects.filter(model_label=label).count() == 2


@pytest.mark.parametrize("name", sorted(LISTS))
def test_the_export_permission_without_the_lists_view_permission_is_refused(data, name):
    changelist, label, _ = LISTS[name]
    staff = staff_with(EXPORT_PERMISSIONS[label])
    assert staff.get(f"{changelist}export/").status_code == 403
    assert ExportRecord.objects.count() == 0


FINANCE = ["users.view_user", "bookings.view_booking", "payments.view_payment"]
FINANCE += ["bookings.export_booking", "payments.export_payment"]  # the contract's Finance group's views and exports


def test_a_group_with_finances_exports_exports_bookings_and_payments_but_not_users(data):
    group = Group.objects.create(name="Finance-like")
    for name in FINANCE:
        app_label, codename = name.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    finance = UserFactory(email="finance@example.com", role="admin")
    finance.is_staff = True
    finance.save()
    finance.groups.add(group)
    _, client = login(finance.email)
    staff = StaffBrowser(client)
    assert staff.get("/admin/bookings/booking/export/").status_code == 200
    assert staff.get("/admin/payments/payment/export/").status_code == 200
    assert staff.get("/admin/users/user/export/").status_code == 403


def test_anonymous_is_sent_to_the_login_and_nothing_is_recorded(client, data):
    response = client.get("/admin/bookings/booking/export/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert ExportRecord.objects.count() == 0


# --- the audit --------------------------------------------------------------------------------
def test_each_export_is_recorded_with_who_which_list_filters_rows_and_when(staff, admin_user, data):
    rows = parse(staff.get("/admin/bookings/booking/export/?status__exact=completed"))
    record = ExportRecord.objects.get()
    assert (record.user, record.user_email, record.via) == (admin_user, admin_user.email, "admin")
    assert (record.model_label, record.query_string) == ("bookings.booking", "status__exact=completed")
    assert (record.row_count, record.status, record.selected_ids) == (len(rows), "completed", None)
    assert record.started_at <= record.finished_at


def test_export_records_are_shown_read_only_to_superusers_only(staff, data):
    parse(staff.get("/admin/users/user/export/"))
    record = ExportRecord.objects.get()
    listing = staff.get("/admin/wemoov/exportrecord/")
    assert listing.status_code == 200
    assert b"users.user" in listing.content
    page = staff.get(f"/admin/wemoov/exportrecord/{record.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert staff.post(f"/admin/wemoov/exportrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.get("/admin/wemoov/exportrecord/add/").status_code == 403
    every = [p for p in Permission.objects.all()]
    mighty = staff_with(*[f"{p.content_type.app_label}.{p.codename}" for p in every])
    assert mighty.get("/admin/wemoov/exportrecord/").status_code == 403
    assert mighty.get(f"/admin/wemoov/exportrecord/{record.pk}/change/").status_code == 403
    assert ExportRecord.objects.count() == 1


@pytest.mark.parametrize(("rows", "batches"), [(4, 1), (25, 3)])
def test_an_admin_export_runs_a_pinned_number_of_queries_whatever_its_rows(
    staff, client_user, settings, django_assert_num_queries, rows, batches
):
    """The session, its user, the record's insert, one query per batch of 10 (the caller's
    test transaction stands for the snapshot here, see tests/wemoov/test_exports.py for the
    snapshot's own queries), the record's update."""
    settings.EXPORT_BATCH_SIZE = settings.EXPORT_COPY_BATCH_SIZE = 10
    BookingFactory.create_batch(rows, user=client_user)
    with django_assert_num_queries(2 + 1 + batches + 1):
        assert len(parse(staff.get("/admin/bookings/booking/export/?status__exact=pending&q=client%40"))) == rows
