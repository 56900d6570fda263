"""/health/ under concurrent checks, through a live server (a thread per request) on the
configured cache: Redis in the PostgreSQL pass, locmem otherwise.

A load balancer checks every instance, often from several places at once: two checks at the
same moment must both answer 200. The checks are made to overlap for sure: each one's read
of the cache waits until every check of the round has written, so a check that read a value
another one could overwrite would see the other's."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache

from wemoov import ops

pytestmark = pytest.mark.django_db(transaction=True)

CHECKERS = 6
ROUNDS = 5


class _ReadsTogether:
    """The real cache, where each `get` waits until all the round's checks have reached one."""

    def __init__(self, real, parties: int):
        self.real = real
        self.round = threading.Barrier(parties)

    def get(self, *args, **kwargs):
        self.round.wait(timeout=10)
        return self.real.get(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _check(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}/health/", timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_concurrent_health_checks_all_answer_200(live_server, monkeypatch):
    monkeypatch.setattr(ops, "cache", _ReadsTogether(cache, CHECKERS))
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def checker():
        for _ in range(ROUNDS):
            answer = _check(live_server.url)
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=checker) for _ in range(CHECKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == CHECKERS * ROUNDS
    assert answers == [(200, {"database": "ok", "cache": "ok"})] * (CHECKERS * ROUNDS)


class _RecordsWrites:
    def __init__(self, real):
        self.real, self.written = real, []

    def set(self, key, *args, **kwargs):
        self.written.append(key)
        return self.real.set(key, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_health_check_leaves_no_key_behind(client, monkeypatch):
    recorder = _RecordsWrites(cache)
    monkeypatch.setattr(ops, "cache", recorder)
    assert client.get("/health/").status_code == 200
    assert client.get("/health/").status_code == 200
    assert len(set(recorder.written)) == 2  # a key per check
    assert not any(cache.has_key(key) for key in recorder.written)
