from __future__ import annotations

import shutil
import tempfile

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.factories import AdminFactory, ClientFactory, DriverFactory, VehicleFactory
from wemoov.cache import clear_local, reset_figures
from wemoov.geo import positions


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache, fresh cache figures and no live positions."""
    cache.clear()
    clear_local()
    reset_figures()
    positions().clear()
    yield
    cache.clear()
    clear_local()
    positions().clear()


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` tests need PostgreSQL; on SQLite they are skipped, saying why."""
    from django.conf import settings

    if settings.DB_VENDOR == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: CI runs it with DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    """An API client authenticating with a real knox token, as a frontend would."""
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def replicate() -> None:
    """The replica catches up: what streaming replication does, at once. Its tables become
    copies of the primary's (in this thread's view of the primary). Without a replica there is
    nothing to catch up. PostgreSQL only: the copy runs as a replica would apply it, without
    triggers or foreign-key checks (session_replication_role)."""
    if "replica" not in settings.DATABASES:
        return
    replica = connections["replica"]
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]
    with transaction.atomic(using="replica"), replica.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE " + ", ".join(replica.ops.quote_name(m._meta.db_table) for m in models))
        for model in models:
            model._base_manager.using("replica").bulk_create(model._base_manager.using("default").order_by())
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def admin_user(db):
    return AdminFactory(email="admin@example.com")


@pytest.fixture
def client_user(db):
    return ClientFactory(email="client@example.com")


@pytest.fixture
def other_client_user(db):
    return ClientFactory(email="other-client@example.com")


@pytest.fixture
def driver(db):
    """A driver profile with one available vehicle."""
    profile = DriverFactory(user__email="driver@example.com")
    VehicleFactory(driver=profile)
    return profile


@pytest.fixture
def other_driver(db):
    profile = DriverFactory(user__email="other-driver@example.com")
    VehicleFactory(driver=profile)
    return profile


@pytest.fixture
def as_admin(admin_user):
    return client_for(admin_user)


@pytest.fixture
def as_client(client_user):
    return client_for(client_user)


@pytest.fixture
def as_other_client(other_client_user):
    return client_for(other_client_user)


@pytest.fixture
def as_driver(driver):
    return client_for(driver.user)


@pytest.fixture
def as_other_driver(other_driver):
    return client_for(other_driver.user)


# --- a real headless browser (Debian's chromium + chromedriver) ------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("chromium and chromedriver are required: `make test` installs Debian's packages")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="wemoov-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,1300",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(10)  # find_element waits for the page a click leads to
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


# --- Stripe, pointed at a stand-in on this machine (tests/stripe_standin.py) ----------------
@pytest.fixture
def stripe_standin(settings):
    from tests.stripe_standin import SECRET_KEY, WEBHOOK_SECRET, StripeStandIn

    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
        settings.STRIPE_API_BASE = standin.url
        settings.PAYMENT_RETURN_URL = "https://app.wemoov.test/payments/return"
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield standin
