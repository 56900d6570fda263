"""gunicorn serving the test database and the shared Redis, for tests that need several real
processes (what a deployment runs) driven over real HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def gunicorn(workers: int, **env: str) -> Iterator[str]:
    """Serve the project with `workers` gunicorn workers until the block ends; yields the base
    URL. `env` adds environment variables (settings) for the server."""
    if not settings.CACHE_URL.startswith("redis"):
        pytest.skip("needs Redis (CACHE_URL=redis://...): locmem is per process, and several processes are the point")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = connection.settings_dict
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:wemoov.gunicorn_conf", "wemoov.wsgi"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "wemoov.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CACHE_URL": settings.CACHE_URL,
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "CONN_MAX_AGE": "0",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/health/", timeout=1).read()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
