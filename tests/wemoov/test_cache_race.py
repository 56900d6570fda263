"""The /users/me race with real threads on PostgreSQL: a request computes the user's figures,
a booking commits (its on-commit hook drops the cached figures) before that computation
stores its value; the stale value must never be served afterwards."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from demo.factories import booking_request
from tests.conftest import client_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_users_me_computed_before_a_booking_is_not_kept_after_it(client_user):
    as_client = client_for(client_user)
    computed, released = threading.Event(), threading.Event()
    seen: list[int] = []

    def pause_after_the_stats_query(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if '"stat_bookings"' in sql:
            computed.set()  # the figures are read: hold the request before it stores them
            released.wait(timeout=10)
        return result

    def slow_request():
        try:
            with connection.execute_wrapper(pause_after_the_stats_query):
                seen.append(client_for(client_user).get("/api/users/me/").json()["stats"]["bookings"])
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert computed.wait(timeout=10)
    assert as_client.post("/api/bookings/", booking_request(), format="json").status_code == 201
    released.set()
    thread.join(timeout=10)
    assert seen == [0]  # that request started before the booking: its answer may predate it
    assert as_client.get("/api/users/me/").json()["stats"]["bookings"] == 1
