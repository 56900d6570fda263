"""Drivers reporting their positions, as their phones would: each available demo driver
starts at a home around Abidjan's Plateau (`demo.abidjan`) and moves a few tens of metres
between two reports, one every `--interval` seconds.

    manage.py dispatch_simulate --url http://127.0.0.1:8000   # through the API (any cache)
    manage.py dispatch_simulate                                # into the shared store directly (Redis)

Through the API (`PUT /api/drivers/me/location/` with a token per driver, deleted on exit)
it works whatever the server's cache, and is what `make run` starts beside the dev server.
Without `--url` it writes into the store of live positions itself, which only a server
sharing that store sees: Redis (on the embedded default's locmem the positions would stay
in this process, so it refuses).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from demo.abidjan import home, step
from fleet.models import Driver
from wemoov import geo


class Command(BaseCommand):
    help = "Simulate the demo's available drivers reporting their positions around Abidjan."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="a running server's base URL: report through its API")
        parser.add_argument("--drivers", type=int, default=50, help="how many available drivers report")
        parser.add_argument("--interval", type=float, default=4.0, help="seconds between two rounds of reports")
        parser.add_argument("--rounds", type=int, default=0, help="stop after this many rounds (0: until stopped)")
        parser.add_argument("--wait", type=float, default=60.0, help="with --url: seconds to wait for the server")
        parser.add_argument("--seed", type=int, default=21)

    def handle(self, *args, url: str, drivers: int, interval: float, rounds: int, wait: float, seed: int, **opts):
        if not url and isinstance(geo.positions(), geo.MemoryPositions):
            raise CommandError(
                "The cache is this process's memory (locmem): a server would not see these positions. "
                "Pass --url of the running server, or set CACHE_URL to the server's Redis."
            )
        profiles = list(
            Driver.objects.filter(is_available=True, user__is_active=True, vehicles__is_available=True)
            .select_related("user")
            .distinct()
            .order_by("pk")[:drivers]
        )
        if not profiles:
            raise CommandError("No available driver with an available vehicle: run `manage.py seed_demo` first.")
        rng = random.Random(seed)
        where = {profile.pk: home(profile.pk) for profile in profiles}
        tokens: dict[int, str] = {}
        created: list[AuthToken] = []
        if url:
            url = url.rstrip("/")
            self._wait_for(url, wait)
            for profile in profiles:
                instance, tokens[profile.pk] = AuthToken.objects.create(profile.user, expiry=timedelta(hours=12))
                created.append(instance)
        self.stdout.write(
            f"{len(profiles)} drivers reporting every {interval:g} s around Abidjan"
            f"{f' through {url}' if url else ' into the shared store'}; Ctrl-C stops."
        )
        done = 0
        try:
            while not rounds or done < rounds:
                started = time.monotonic()
                stored = 0
                for profile in profiles:
                    where[profile.pk] = step(rng, *where[profile.pk])
                    stored += self._report(url, tokens.get(profile.pk), profile.user_id, *where[profile.pk])
                done += 1
                self.stdout.write(f"round {done}: {stored} of {len(profiles)} positions sent")
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        except KeyboardInterrupt:
            pass
        finally:
            for instance in created:
                instance.delete()

    @staticmethod
    def _report(url: str, token: str | None, user_id: int, lat: float, lng: float) -> int:
        if not url:
            return int(geo.positions().report(user_id, lat, lng))
        request = urllib.request.Request(
            f"{url}/api/drivers/me/location/",
            data=json.dumps({"lat": lat, "lng": lng}).encode(),
            method="PUT",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status == 204)
        except (urllib.error.URLError, OSError):
            return 0

    def _wait_for(self, url: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"No server answers at {url}: {exc}") from exc
                time.sleep(0.5)
