"""Every index the seed listed exists under its name in PostgreSQL's catalog, or is
accounted for as redundant with one that does."""

import pytest
from django.db import connection

# table -> index names that must exist (the seed's list, plus those our hot queries need)
EXPECTED = {
    "users_user": {"user_role_active_idx", "user_is_active_idx", "user_created_at_idx"},
    "bookings_booking": {
        "booking_status_created_idx",
        "booking_service_type_idx",
        "booking_user_created_idx",
        "booking_driver_created_idx",
        "booking_created_at_idx",
        "booking_scheduled_date_idx",
        "booking_open_pool_idx",
        "booking_vehicle_idx",
    },
    "payments_payment": {
        "payment_status_created_idx",
        "payment_created_at_idx",
        "payment_booking_idx",
        "payment_user_created_idx",
        "payment_completed_created_idx",
        "payment_one_completed_per_booking",
    },
    "fleet_driver": {"driver_is_available_idx", "driver_rating_idx", "driver_license_number_uniq"},
    "fleet_vehicle": {"vehicle_type_idx", "vehicle_is_available_idx", "vehicle_driver_avail_idx"},
}

# The seed's indexes that are not created on their own, and the index that serves instead.
DROPPED_AS_REDUNDANT = {
    ("users_user", "role"): ("user_role_active_idx", "role is the leading column of (role, is_active)"),
    ("bookings_booking", "status"): ("booking_status_created_idx", "status leads (status, created_at)"),
    ("bookings_booking", "user"): ("booking_user_created_idx", "user_id leads (user_id, created_at), the list"),
    ("bookings_booking", "driver"): ("booking_driver_created_idx", "driver_id leads (driver_id, created_at)"),
    ("payments_payment", "status"): ("payment_status_created_idx", "status leads (status, created_at)"),
}


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_seed_index_exists_under_its_name():
    for table, names in EXPECTED.items():
        found = _indexes(table)
        missing = names - found.keys()
        assert not missing, f"{table} lacks {sorted(missing)}"


@pytest.mark.postgres
@pytest.mark.django_db
def test_indexes_dropped_as_redundant_are_served_by_a_composite_leading_with_their_column():
    for (table, column), (serving, _why) in DROPPED_AS_REDUNDANT.items():
        definition = _indexes(table)[serving]
        leading = definition.split("(", 1)[1].split(",")[0].split(")")[0].strip()
        assert leading in {column, f"{column}_id"}, (table, column, definition)
        # ... and no single-column index duplicates it.
        singles = [d for d in _indexes(table).values() if d.rstrip().endswith(f"({leading})")]
        assert not singles, f"{table}.{column} is indexed twice: {singles}"


@pytest.mark.postgres
@pytest.mark.django_db
def test_revenue_index_is_partial_and_covering():
    definition = _indexes("payments_payment")["payment_completed_created_idx"]
    assert "INCLUDE (amount)" in definition
    assert "WHERE" in definition
    assert "'completed'" in definition


@pytest.mark.postgres
@pytest.mark.django_db
def test_one_completed_payment_per_booking_is_a_partial_unique_index():
    definition = _indexes("payments_payment")["payment_one_completed_per_booking"]
    assert definition.startswith("CREATE UNIQUE INDEX")
    assert "'completed'" in definition
