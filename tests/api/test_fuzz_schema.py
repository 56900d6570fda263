"""schemathesis against /api/schema/, as an admin, a client and a driver, on seeded data with
the throttles lifted (for this module only):

* every operation fuzzed on its own (`schema.parametrize()`), and
* stateful runs that follow the schema's OpenAPI links (wemoov/schema_links.py): a created
  booking's id flows into its actions and its payment, a payment's into its transitions.

Every check schemathesis has runs, response schema conformance included. The data the
schema calls valid may still break a rule the schema cannot express (a date in the past,
someone else's booking, a vehicle of another driver): the contract answers that with 400
field errors, 403, 404 or 409, so those statuses are accepted for positive data.

Bounded: FUZZ_EXAMPLES examples per operation and role (default 10), FUZZ_STATEFUL_EXAMPLES
scenarios of at most FUZZ_STATEFUL_STEPS steps per role (default 8 and 12). The last test
prints, per endpoint and role, how many responses got past 401/404/429, and fails when an
endpoint of the contract was never reached by any role.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import schemathesis
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle

from bookings.models import Booking, BookingStatus
from demo.factories import AdminFactory, BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from payments.models import PaymentStatus
from wemoov.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "8"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "12"))
ROLES = ["admin", "client", "driver"]
NOT_REACHED = {401, 404, 429}
# Operations no fuzzed request can reach past 404 by design: Stripe's webhook answers 404 where
# Stripe is not configured (here), and 400 to anything Stripe did not sign
# (tests/api/test_stripe.py covers it against a Stripe stand-in).
UNREACHABLE_BY_DESIGN = {("POST", "/api/payments/webhooks/stripe/")}

CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}},
        # Each run authenticates as its role with a real token; generated credentials (a
        # random session cookie next to it) would make every answer ambiguous.
        "generation": {"with-security-parameters": False},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

# (method, path) -> role -> Counter of status codes, filled by every call below.
RESPONSES: dict[tuple[str, str], dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
STARTED = time.monotonic()


def _record(role: str, case, status: int) -> None:
    # case.method, not the operation's: the coverage phase also tries methods the path lacks.
    RESPONSES[(case.method.upper(), case.operation.path)][role][status] += 1


# The run's credentials, as schemathesis's explicit auth (so its auth checks know them for
# real ones): set by each test for its role.
CREDENTIALS: dict[str, object] = {}


def _token(case) -> str:
    if not CREDENTIALS:  # cases drawn while collecting: the test sets the token before the call
        return "not-yet"
    seeded, role = CREDENTIALS["seeded"], CREDENTIALS["role"]
    # Logging out revokes the token it uses: give it one of its own.
    if case.operation.path == "/api/auth/logout/":
        return AuthToken.objects.create(user=seeded["users"][role])[1]
    return seeded["tokens"][role]


@schema.auth(refresh_interval=None)
class RoleToken:
    def get(self, case, ctx):
        return _token(case)

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}


@pytest.fixture
def keep_connections():
    """The WSGI app closes database connections when a request ends; Django's test client
    stops it from doing so inside a test transaction, schemathesis's WSGI client does not."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def no_throttles(monkeypatch):
    """Lift every rate for this module's tests only (a rate of None lets DRF pass all)."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None, "auth": None})


@pytest.fixture
def seeded(db, keep_connections, no_throttles):
    """Demo data of every kind, plus one user per role with objects in every status they can act on."""
    call_command(
        "seed_demo",
        users=30,
        drivers=8,
        vehicles=10,
        bookings=60,
        payments=40,
        no_progress=True,
        stdout=open(os.devnull, "w"),  # noqa: SIM115 - closed with the process; the command only prints a summary
    )
    admin, client = AdminFactory(), ClientFactory()
    driver = DriverFactory()
    VehicleFactory(driver=driver)
    soon = timezone.now() + timedelta(days=1)
    for status in (BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.IN_PROGRESS):
        BookingFactory(user=client, driver=driver, status=status, scheduled_date=soon)
    confirmed = BookingFactory(user=client, driver=driver, status=BookingStatus.CONFIRMED, scheduled_date=soon)
    PaymentFactory(booking=confirmed, status=PaymentStatus.COMPLETED)
    paid_later = BookingFactory(user=client, driver=driver, status=BookingStatus.COMPLETED, scheduled_date=soon)
    PaymentFactory(booking=paid_later, status=PaymentStatus.PENDING)
    BookingFactory(user=client, status=BookingStatus.PENDING, scheduled_date=soon)  # newest: the pool's first
    users = {"admin": admin, "client": client, "driver": driver.user}
    tokens = {role: AuthToken.objects.create(user=user)[1] for role, user in users.items()}
    return {"users": users, "tokens": tokens, "visible": {role: _visible_ids(user) for role, user in users.items()}}


def _visible_ids(user) -> dict[str, list[int]]:
    """The ids each list shows this user, from the selectors the API lists with (every row
    of the table where the role may not list it: those calls answer 403 anyway). Not
    through the test client: it would reconnect the signal that closes connections, which
    `keep_connections` holds off for schemathesis's WSGI calls."""
    from bookings.selectors import booking_list_for
    from fleet.models import Driver, Vehicle
    from fleet.selectors import vehicle_list_for
    from payments.selectors import payment_list_for
    from users.models import Role, User

    vehicles = vehicle_list_for(user) if user.role in (Role.ADMIN, Role.DRIVER) else Vehicle.objects.all()
    querysets = {
        "bookings": booking_list_for(user),
        "payments": payment_list_for(user),
        "vehicles": vehicles,
        "users": User.objects.all(),
        "drivers": Driver.objects.all(),
    }
    return {resource: list(qs.order_by("-pk").values_list("pk", flat=True)[:100]) for resource, qs in querysets.items()}


def _aim(case, seeded, role: str) -> None:
    """Random ids almost never exist: point every other generated integer id at a row this
    role can see, so the fuzzing reaches the rules behind the 404 (the odd ones stay as drawn)."""
    resource = case.operation.path.split("/")[2]
    generated = (case.path_parameters or {}).get("id")
    ids = seeded["visible"][role].get(resource)
    if isinstance(generated, int) and not isinstance(generated, bool) and generated % 2 == 0 and ids:
        case.path_parameters = {**case.path_parameters, "id": ids[generated // 2 % len(ids)]}


@pytest.fixture
def as_role(seeded):
    def use(role: str):
        CREDENTIALS.update(seeded=seeded, role=role)

    yield use
    CREDENTIALS.clear()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_never_5xx_and_conform_to_the_schema(case, role, as_role):
    as_role(role)
    _aim(case, CREDENTIALS["seeded"], role)
    case.headers = {**(case.headers or {}), "Authorization": f"Token {_token(case)}"}
    response = case.call()
    _record(role, case, response.status_code)
    case.validate_response(response)


@pytest.mark.parametrize("role", ROLES)
def test_stateful_workflows_through_the_links_never_5xx_and_conform(role, as_role):
    as_role(role)
    workflow = schema.as_state_machine()

    class RoleWorkflow(workflow):
        def after_call(self, response, case):
            _record(role, case, response.status_code)

    RoleWorkflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert Booking.objects.exists()


def test_every_operation_was_reached_beyond_401_404_429(capsys):
    """Runs last (pytest keeps the file's order): the table of what the runs above reached."""
    operations = sorted({(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())})
    assert RESPONSES, "run the whole module: the fuzzing tests above fill the table"
    lines = [
        f"\nschemathesis: responses past 401/404/429 per operation and role ({time.monotonic() - STARTED:.0f} s)",
        f"{'operation':<44} " + " ".join(f"{role:>24}" for role in ROLES),
    ]
    unreached = []
    for method, path in operations:
        cells, reached_any = [], False
        for role in ROLES:
            statuses = RESPONSES[(method, path)][role]
            reached = sum(n for status, n in statuses.items() if status not in NOT_REACHED)
            reached_any |= reached > 0
            codes = ",".join(f"{status}x{n}" for status, n in sorted(statuses.items()) if status not in NOT_REACHED)
            cells.append(f"{reached:>3}/{sum(statuses.values()):<3} {codes[:15]:<15}")
        lines.append(f"{method + ' ' + path:<44} " + " ".join(f"{cell:>24}" for cell in cells))
        if not reached_any and (method, path) not in UNREACHABLE_BY_DESIGN:
            unreached.append(f"{method} {path}")
    with capsys.disabled():
        sys.stdout.write("\n".join(lines) + "\n")
    server_errors = {
        op: dict(by_role) for op, by_role in RESPONSES.items() if any(s >= 500 for c in by_role.values() for s in c)
    }
    assert not server_errors
    assert not unreached, f"never reached beyond 401/404/429: {unreached}"
