"""`manage.py export`: the admin export's bytes for the same rows, filters as field lookups,
recorded as an export by `command`, nothing written on bad input."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from tests.admin.conftest import login
from wemoov.models import ExportRecord

pytestmark = pytest.mark.django_db


def _ids(path) -> list[int]:
    text = path.read_bytes().decode("utf-8-sig")
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(text, newline=""))]


def _sql(query: str, params=()) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def bookings(client_user, driver):
    vehicle = driver.vehicles.get()
    made = [BookingFactory(user=client_user, status="completed", driver=driver, vehicle=vehicle) for _ in range(3)]
    made += [BookingFactory(user=ClientFactory(), status="pending") for _ in range(2)]
    for booking in made:
        PaymentFactory(booking=booking)
    return made


def test_export_of_filtered_bookings_matches_sql_and_is_recorded_as_a_command(tmp_path, bookings, driver):
    out = tmp_path / "completed.csv"
    call_command(
        "export", "bookings", filter=["status=completed", f"driver_id={driver.pk}"], output=str(out), no_progress=True
    )
    assert _ids(out) == _sql(
        "SELECT id FROM bookings_booking WHERE status = 'completed' AND driver_id = %s ORDER BY id", [driver.pk]
    )
    record = ExportRecord.objects.get()
    assert (record.via, record.user, record.user_email) == ("command", None, "")
    assert (record.model_label, record.query_string) == ("bookings.booking", f"status=completed&driver_id={driver.pk}")
    assert (record.row_count, record.status) == (3, "completed")


@pytest.mark.parametrize("name", ["bookings", "payments", "users", "drivers", "vehicles"])
def test_every_list_exports_from_the_command(tmp_path, bookings, name):
    VehicleFactory(driver=DriverFactory())
    out = tmp_path / f"{name}.csv"
    call_command("export", name, output=str(out), no_progress=True, batch_size=2)
    table = {"drivers": "fleet_driver", "vehicles": "fleet_vehicle", "users": "users_user"}.get(name)
    assert _ids(out) == _sql(f"SELECT id FROM {table or name + '_' + name[:-1]} ORDER BY id")


def test_the_command_writes_the_bytes_the_admin_export_streams(tmp_path, admin_user, bookings):
    out = tmp_path / "pending.csv"
    call_command("export", "payments", filter=["status=pending"], output=str(out), no_progress=True)
    _, staff = login(admin_user.email)
    admin = b"".join(staff.get("/admin/payments/payment/export/?status__exact=pending").streaming_content)
    assert out.read_bytes() == admin
    assert admin.startswith(b"\xef\xbb\xbfid,booking,user,amount,")


def test_lookups_in_lists_and_nulls(tmp_path, bookings):
    out = tmp_path / "some.csv"
    wanted = [bookings[0].pk, bookings[3].pk]
    call_command("export", "bookings", filter=[f"id__in={wanted[0]},{wanted[1]}"], output=str(out), no_progress=True)
    assert _ids(out) == sorted(wanted)
    call_command("export", "bookings", filter=["driver__isnull=true"], output=str(out), no_progress=True)
    assert _ids(out) == _sql("SELECT id FROM bookings_booking WHERE driver_id IS NULL ORDER BY id")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nothing"], "No such list"),
        (["bookings", "--filter", "no_such_field=1"], "Invalid filter"),
        (["bookings", "--filter", "created_at__gte=yesterday"], "Invalid filter"),
        (["bookings", "--filter", "status"], "Invalid filter"),
        (["bookings", "--filter", "driver__isnull=maybe"], "Invalid filter"),
        (["bookings", "--batch-size", "0"], "batch-size"),
    ],
)
def test_bad_input_is_a_command_error_and_nothing_is_written(tmp_path, bookings, args, message):
    out = tmp_path / "never.csv"
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, "--output", str(out), "--no-progress")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    assert ExportRecord.objects.count() == 0


def test_an_unwritable_output_is_a_command_error(tmp_path, bookings):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export", "bookings", output=str(tmp_path / "no" / "such" / "dir.csv"), no_progress=True)
    assert ExportRecord.objects.count() == 0


def test_a_device_or_pipe_is_written_to_as_it_is(bookings):
    call_command("export", "bookings", output="/dev/null", no_progress=True)
    assert ExportRecord.objects.get().row_count == len(bookings)
