"""Great-circle distances, and drivers' live positions in the shared cache's store.

**Distance.** The contract's distance is one haversine on a sphere of the mean Earth radius:
``haversine_km`` in Python and ``HaversineKm`` for the database, the same formula and
constant, both here. ``km_decimal`` is how the API writes a distance (``"1.27"``).

**Positions.** A driver's phone reports where the driver is; only the last position is kept,
never in the database. ``positions()`` is the store, chosen from the cache settings:

* ``RedisPositions`` when the cache is Redis: every process sees every report. A geo set
  (``GEOADD``, ``GEOSEARCH``) indexes the positions; beside it a hash keeps each exact
  reported position with its time (the geo set's geohash rounds positions to about 0.6 m,
  and its distances use Redis's own Earth radius), and a sorted set of report times finds
  the expired ones. A report is one Lua script (one round trip, atomic): the rate rule, a
  few expired positions purged, the writes. It uses the client that the cache backend
  already holds (``wemoov.cache_backends``), so no connection pool of its own.
* ``MemoryPositions`` on the embedded default (locmem): the same rules in this process,
  with a grid of 0.1° cells as the index.

Members are user ids: the cached token lookup carries the user, so a report costs no
database query; whoever reads maps users to driver profiles in the one query that confirms
their availability. The rules: at most one report per member every
``DISPATCH_LOCATION_INTERVAL`` seconds is stored (a faster one is ignored); a position
older than ``DISPATCH_LOCATION_TTL`` seconds no longer counts. Searches are exact: Redis
narrows to candidates with a small margin, and every candidate is measured again with
``haversine_km`` on its exact reported position.

Redis's geo commands take latitudes up to ±85.05112878° only; positions beyond (the polar
caps) are kept in a plain set beside the geo set and measured one by one when a search
reaches that far, and a search centred beyond starts from the nearest latitude Redis takes,
its radius widened by that shift (the triangle inequality keeps it exact).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, FloatField, Func

logger = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG): the contract's distances
CENTS = Decimal("0.01")
# Redis measures on a sphere of this radius (src/geohash_helper.c) with positions rounded to
# its 52-bit geohash (under 0.6 m); a search in Redis asks for this much more than needed.
REDIS_EARTH_RADIUS_KM = 6372.7975608560
REDIS_MARGIN_KM = 0.005
# Redis's GEOADD refuses latitudes beyond ±85.05112878; a little inside it, for rounding.
REDIS_MAX_LAT = 85.05


def now() -> float:
    """The store's clock (seconds since the epoch); tests move it instead of sleeping."""
    return time.time()


# --- distance ------------------------------------------------------------------------------
def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in km: the contract's distance, unrounded."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def km_decimal(km: float) -> Decimal:
    """A distance as the API writes it: km, 2 places, half up."""
    return Decimal(str(km)).quantize(CENTS, rounding=ROUND_HALF_UP)


class HaversineKm(Func):
    """``haversine_km`` from a point to the row's (lat_field, lng_field), as one SQL expression
    (PostgreSQL, and SQLite through the math functions Django registers there). One node,
    not a tree of Django's math functions: a tree of twenty cost a fifth of the driver's
    pool request to resolve and compile."""

    output_field = FloatField()

    def __init__(self, lat: float, lng: float, lat_field: str, lng_field: str) -> None:
        super().__init__(F(lat_field), F(lng_field))
        self.point = (float(lat), float(lng))

    def as_sql(self, compiler, connection, **extra_context):
        (lat_sql, lat_params), (lng_sql, lng_params) = (compiler.compile(e) for e in self.source_expressions)
        lat, lng = self.point
        least = "MIN" if connection.vendor == "sqlite" else "LEAST"  # as Django's Least
        sql = (
            f"(%s * ASIN({least}(1.0, SQRT(POWER(SIN(RADIANS({lat_sql} - %s) / 2), 2)"
            f" + %s * COS(RADIANS({lat_sql})) * POWER(SIN(RADIANS({lng_sql} - %s) / 2), 2)))))"
        )
        params = (2 * EARTH_RADIUS_KM, *lat_params, lat, math.cos(math.radians(lat)), *lat_params, *lng_params, lng)
        return sql, params


@dataclass(frozen=True, slots=True)
class Box:
    lat_min: float
    lat_max: float
    lng_min: float
    lng_max: float


def bounding_boxes(lat: float, lng: float, radius_km: float) -> list[Box]:
    """Latitude/longitude boxes that together hold every point within ``radius_km`` of the
    point (J. P. Matuschek, "Finding points within a distance of a latitude/longitude using
    bounding coordinates"): one box, two where the circle crosses the antimeridian, and every
    longitude where it holds a pole. A hair wider than exact, for rounding; callers measure
    each point found in them with ``haversine_km``."""
    angle = radius_km / EARTH_RADIUS_KM
    slack = 1e-9
    lat_min, lat_max = lat - math.degrees(angle) - slack, lat + math.degrees(angle) + slack
    if lat_max >= 90 or lat_min <= -90 or angle >= math.pi / 2:
        return [Box(max(lat_min, -90.0), min(lat_max, 90.0), -180.0, 180.0)]
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1:
        return [Box(lat_min, lat_max, -180.0, 180.0)]
    d_lng = math.degrees(math.asin(ratio)) + slack
    lng_min, lng_max = lng - d_lng, lng + d_lng
    if lng_min < -180:
        return [Box(lat_min, lat_max, lng_min + 360, 180.0), Box(lat_min, lat_max, -180.0, lng_max)]
    if lng_max > 180:
        return [Box(lat_min, lat_max, lng_min, 180.0), Box(lat_min, lat_max, -180.0, lng_max - 360)]
    return [Box(lat_min, lat_max, lng_min, lng_max)]


# --- positions -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lng: float
    at: float  # when it was reported, seconds since the epoch

    @property
    def located_at(self) -> datetime:
        return datetime.fromtimestamp(self.at, tz=UTC)


@dataclass(frozen=True, slots=True)
class Hit:
    member: int
    km: float  # haversine_km from the search's centre, unrounded
    position: Position


@dataclass(frozen=True, slots=True)
class Nearby:
    """A search's answer: ``hits``, nearest first, are every member with a position that
    counts within ``complete_km`` of the centre (and only those). ``complete_km`` is the
    radius asked for, or less when the store stopped at the ``want`` nearest."""

    hits: list[Hit]
    complete_km: float


class PositionsUnavailable(Exception):
    """The store could not be reached (Redis down): the API answers 503."""


class TooManyReports(Exception):
    """A member's reports beyond their budget: the API answers 429 with ``Retry-After``."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        super().__init__(f"Too many reports; retry in {wait:.0f} s.")


def _window(at: float, seconds: float) -> tuple[int, float]:
    """The fixed budget window holding ``at``, and the seconds until it ends."""
    index = int(at // seconds)
    return index, (index + 1) * seconds - at


def location_ttl() -> float:
    return float(settings.DISPATCH_LOCATION_TTL)


def location_interval() -> float:
    return float(settings.DISPATCH_LOCATION_INTERVAL)


# Where a search starts: most searches in a city end within the first ring.
START_KM = 0.5


class PositionStore(ABC):
    @abstractmethod
    def report(self, member: int, lat: float, lng: float, *, budget: tuple[int, float] | None = None) -> bool:
        """Keep this as the member's position, unless their last one was stored less than
        ``DISPATCH_LOCATION_INTERVAL`` ago (then nothing changes). Whether it was stored.

        ``budget`` (requests, seconds): the member's requests are counted in the same step,
        in fixed windows of that many seconds; one beyond raises ``TooManyReports`` and
        changes nothing. (The API's user rate, counted here instead of by a throttle of its
        own, which would cost two more round trips per report.)"""

    @abstractmethod
    def position(self, member: int) -> Position | None:
        """The member's last position, if it still counts."""

    @abstractmethod
    def nearest(self, lat: float, lng: float, *, radius_km: float, want: int) -> Nearby:
        """Members with a position that counts within ``radius_km``, nearest first: all of
        them, or at least the ``want`` nearest (see ``Nearby``)."""

    @abstractmethod
    def forget(self, members: Iterable[int]) -> None:
        """These members are out of dispatch until their next report."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every position (tests, the demo's simulator)."""


def _fresh(position: Position | None, at: float) -> bool:
    return position is not None and at - position.at <= location_ttl()


# --- in this process -----------------------------------------------------------------------
CELL_DEGREES = 0.1


def _cell(lat: float, lng: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEGREES), math.floor(lng / CELL_DEGREES)


class MemoryPositions(PositionStore):
    """The embedded default's store: positions in this process, a grid of cells as index."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._positions: dict[int, Position] = {}
        self._cells: dict[tuple[int, int], set[int]] = {}
        # member -> (their budget window: its index and length, requests in it)
        self._spent: dict[int, tuple[int, float, int]] = {}
        self._purged_at = 0.0

    def _drop(self, member: int) -> None:
        old = self._positions.pop(member, None)
        if old is not None:
            cell = _cell(old.lat, old.lng)
            members = self._cells.get(cell)
            if members is not None:
                members.discard(member)
                if not members:
                    del self._cells[cell]

    def _purge(self, at: float) -> None:
        # Once per TTL, a pass over every position drops the expired ones.
        if at - self._purged_at < location_ttl():
            return
        self._purged_at = at
        for member in [m for m, p in self._positions.items() if not _fresh(p, at)]:
            self._drop(member)
        for member in [m for m, (window, seconds, _) in self._spent.items() if (window + 1) * seconds <= at]:
            del self._spent[member]

    def report(self, member: int, lat: float, lng: float, *, budget: tuple[int, float] | None = None) -> bool:
        at = now()
        with self._lock:
            if budget is not None:
                window, wait = _window(at, budget[1])
                held = self._spent.get(member)
                spent = held[2] + 1 if held and held[:2] == (window, budget[1]) else 1
                self._spent[member] = (window, budget[1], spent)
                if spent > budget[0]:
                    raise TooManyReports(wait)
            last = self._positions.get(member)
            if last is not None and at - last.at < location_interval():
                return False
            self._drop(member)
            self._positions[member] = Position(lat, lng, at)
            self._cells.setdefault(_cell(lat, lng), set()).add(member)
            self._purge(at)
        return True

    def position(self, member: int) -> Position | None:
        at = now()
        with self._lock:
            position = self._positions.get(member)
        return position if _fresh(position, at) else None

    def nearest(self, lat: float, lng: float, *, radius_km: float, want: int) -> Nearby:
        at = now()
        seen: set[int] = set()
        hits = []
        with self._lock:
            for box in bounding_boxes(lat, lng, radius_km):
                (y0, x0), (y1, x1) = _cell(box.lat_min, box.lng_min), _cell(box.lat_max, box.lng_max)
                for y in range(y0, y1 + 1):
                    for x in range(x0, x1 + 1):
                        for member in self._cells.get((y, x), ()):
                            if member in seen:
                                continue
                            seen.add(member)
                            position = self._positions[member]
                            if not _fresh(position, at):
                                continue
                            km = haversine_km(lat, lng, position.lat, position.lng)
                            if km <= radius_km:
                                hits.append(Hit(member, km, position))
        hits.sort(key=lambda hit: (hit.km, hit.member))
        return Nearby(hits, radius_km)

    def forget(self, members: Iterable[int]) -> None:
        with self._lock:
            for member in members:
                self._drop(member)

    def clear(self) -> None:
        with self._lock:
            self._positions.clear()
            self._cells.clear()
            self._spent.clear()


# --- in Redis ------------------------------------------------------------------------------
# KEYS: geo set, exact positions (hash: member -> "lat lng at"), report times (sorted set),
# polar members (set), the member's budget counter (or none). ARGV: member, lng, lat, now,
# interval, ttl, polar (0/1), purge limit, budget requests, budget seconds.
# Returns 1 stored, 0 ignored (within the interval), -1 over budget.
_REPORT = b"""
local member, now = ARGV[1], tonumber(ARGV[4])
if KEYS[5] then
  local spent = redis.call('INCR', KEYS[5])
  if spent == 1 then redis.call('EXPIRE', KEYS[5], math.ceil(tonumber(ARGV[10])) + 1) end
  if spent > tonumber(ARGV[9]) then return -1 end
end
local last = redis.call('ZSCORE', KEYS[3], member)
if last and now - tonumber(last) < tonumber(ARGV[5]) then return 0 end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. tostring(now - tonumber(ARGV[6])),
  'LIMIT', 0, tonumber(ARGV[8]))
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('HDEL', KEYS[2], unpack(expired))
  redis.call('ZREM', KEYS[3], unpack(expired))
  redis.call('SREM', KEYS[4], unpack(expired))
end
if ARGV[7] == '1' then
  redis.call('ZREM', KEYS[1], member)
  redis.call('SADD', KEYS[4], member)
else
  redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], member)
  redis.call('SREM', KEYS[4], member)
end
redis.call('HSET', KEYS[2], member, ARGV[3] .. ' ' .. ARGV[2] .. ' ' .. ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[4], member)
return 1
"""

# KEYS: geo set, exact positions, polar members. ARGV: lng, lat, first radius, last radius
# (Redis km), want, with polar (0/1). Rings widen 4 times until `want` members are found or
# the last radius is searched; returns the radius searched (and 1 if it is the last), the
# members and their Redis distances (nearest first, at most `want`), the polar members, and
# every one's exact value.
_NEAREST = b"""
local r, last, want = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local found
while true do
  found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', r, 'km',
    'ASC', 'COUNT', want, 'WITHDIST')
  if #found >= want or r >= last then break end
  r = math.min(r * 4, last)
end
local members, dists = {}, {}
for i, row in ipairs(found) do members[i] = row[1]; dists[i] = row[2] end
local polar = {}
if ARGV[6] == '1' then polar = redis.call('SMEMBERS', KEYS[3]) end
local all = {}
for _, m in ipairs(members) do all[#all + 1] = m end
for _, m in ipairs(polar) do all[#all + 1] = m end
local values = {}
for i = 1, #all, 1000 do
  local chunk = redis.call('HMGET', KEYS[2], unpack(all, i, math.min(i + 999, #all)))
  for _, v in ipairs(chunk) do values[#values + 1] = v end
end
return {tostring(r), r >= last and 1 or 0, members, dists, polar, values}
"""

_PURGE_PER_REPORT = 16


def _script(source: bytes):
    from redis.commands.core import Script

    return Script(None, source)


class RedisPositions(PositionStore):
    """Positions in Redis, through the cache backend's own client (see the module docstring)."""

    _report_script = None
    _nearest_script = None

    def __init__(self, backend) -> None:
        self.backend = backend
        self.base = backend.make_key("dispatch:{positions}")  # one hash slot, should Redis be a cluster
        self.keys = {name: f"{self.base}:{name}" for name in ("geo", "pos", "at", "polar")}
        if RedisPositions._report_script is None:
            RedisPositions._report_script = _script(_REPORT)
            RedisPositions._nearest_script = _script(_NEAREST)

    def _client(self):
        return self.backend.redis_client()

    def _run(self, script, keys: list[str], args: list):
        try:
            return script(keys=keys, args=args, client=self._client())
        except Exception as exc:
            if type(exc).__module__.startswith("redis") or isinstance(exc, OSError):
                raise PositionsUnavailable(str(exc)) from exc
            raise

    def report(self, member: int, lat: float, lng: float, *, budget: tuple[int, float] | None = None) -> bool:
        k = self.keys
        at = now()
        polar = "1" if abs(lat) > REDIS_MAX_LAT else "0"
        keys = [k["geo"], k["pos"], k["at"], k["polar"]]
        args = [member, repr(float(lng)), repr(float(lat)), repr(at)]
        args += [repr(location_interval()), repr(location_ttl()), polar, _PURGE_PER_REPORT]
        wait = 0.0
        if budget is not None:
            window, wait = _window(at, budget[1])
            keys.append(f"{self.base}:budget:{member}:{window}")
            args += [budget[0], repr(float(budget[1]))]
        outcome = self._run(self._report_script, keys, args)
        if outcome == -1:
            raise TooManyReports(wait)
        return outcome == 1

    def position(self, member: int) -> Position | None:
        at = now()
        try:
            value = self._client().hget(self.keys["pos"], member)
        except Exception as exc:
            raise PositionsUnavailable(str(exc)) from exc
        position = _parse(value)
        return position if _fresh(position, at) else None

    def nearest(self, lat: float, lng: float, *, radius_km: float, want: int) -> Nearby:
        at = now()
        centre_lat = max(-REDIS_MAX_LAT, min(REDIS_MAX_LAT, lat))
        shift = haversine_km(lat, lng, centre_lat, lng)

        def redis_km(km: float) -> float:
            return (km + shift) * REDIS_EARTH_RADIUS_KM / EARTH_RADIUS_KM + REDIS_MARGIN_KM

        last = redis_km(radius_km)
        first = min(redis_km(START_KM), last)
        with_polar = abs(lat) + math.degrees(radius_km / EARTH_RADIUS_KM) >= REDIS_MAX_LAT
        k = self.keys
        args = [repr(float(lng)), repr(centre_lat), repr(first), repr(last), want, "1" if with_polar else "0"]
        searched, reached_last, members, dists, polar, values = self._run(
            self._nearest_script, [k["geo"], k["pos"], k["polar"]], args
        )
        if len(members) < want and reached_last:
            complete_km = radius_km
        else:
            # Every member nearer than what Redis searched (or than the farthest it returned)
            # is in `members`; back to the contract's metric, and from the true centre.
            reach = float(searched) if len(members) < want else float(dists[-1])
            complete_km = (reach - REDIS_MARGIN_KM) * EARTH_RADIUS_KM / REDIS_EARTH_RADIUS_KM - shift
            complete_km = max(0.0, min(radius_km, complete_km))
        hits, seen = [], set()
        for member, value in zip([*members, *polar], values, strict=True):
            position = _parse(value)
            member = int(member)
            if member in seen or not _fresh(position, at):
                continue
            seen.add(member)
            km = haversine_km(lat, lng, position.lat, position.lng)
            if km <= complete_km:
                hits.append(Hit(member, km, position))
        hits.sort(key=lambda hit: (hit.km, hit.member))
        return Nearby(hits, complete_km)

    def forget(self, members: Iterable[int]) -> None:
        members = list(members)
        if not members:
            return
        k = self.keys
        try:
            with self._client().pipeline(transaction=True) as pipe:
                pipe.zrem(k["geo"], *members)
                pipe.hdel(k["pos"], *members)
                pipe.zrem(k["at"], *members)
                pipe.srem(k["polar"], *members)
                pipe.execute()
        except Exception as exc:
            raise PositionsUnavailable(str(exc)) from exc

    def clear(self) -> None:
        self._client().delete(*self.keys.values())


def _parse(value) -> Position | None:
    if value is None:
        return None
    lat, lng, at = (float(part) for part in value.split())
    return Position(lat, lng, at)


_memory = MemoryPositions()


def positions() -> PositionStore:
    """The store for the configured cache: Redis when the cache is Redis, else this process's."""
    from django.core.cache import caches

    from wemoov.cache_backends import RedisCache

    backend = caches["default"]  # this thread's backend object
    if not isinstance(backend, RedisCache):
        return _memory
    store = getattr(backend, "_wemoov_positions", None)
    if store is None:
        store = backend._wemoov_positions = RedisPositions(backend)
    return store


def forget_on_commit(member: int) -> None:
    """Once the current transaction commits (at once outside one), ``member`` is out of
    dispatch. A store outage only logs: the position expires within its TTL, and whoever
    reads confirms availability in the database anyway."""

    def forget() -> None:
        try:
            positions().forget([member])
        except PositionsUnavailable as exc:
            logger.warning("position of %s not dropped: %s", member, exc)

    transaction.on_commit(forget)
