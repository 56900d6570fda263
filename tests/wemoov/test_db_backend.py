"""The PostgreSQL backend's health check: no round trip on a healthy idle connection, and a
connection whose server session ended is found unusable (so Django replaces it)."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_healthy_idle_connection_is_usable_without_a_query(monkeypatch):
    connection.ensure_connection()
    sent = []
    monkeypatch.setattr(connection.connection, "cursor", lambda *a, **k: sent.append(1) or pytest.fail("a round trip"))
    assert connection.is_usable() is True
    assert sent == []


def test_a_connection_whose_session_was_terminated_is_not_usable():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres", autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # wait for the server's notice to reach the socket
        if select.select([connection.connection.fileno()], [], [], 0.05)[0]:
            break
    assert connection.is_usable() is False
    connection.close()
