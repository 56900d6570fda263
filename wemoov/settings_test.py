"""Settings for the test suite (pytest-django loads this module, see pyproject.toml): the
product settings with only what tests need changed. Nothing in the product imports it."""

import os

# The product settings refuse to start without a secret when DEBUG is off; tests run with
# DEBUG off, as production does, so they get a throwaway key before the import.
os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only")

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from wemoov.db_routers import ReplicaRouter  # noqa: E402
from wemoov.settings import *  # noqa: E402, F403
from wemoov.settings import DATABASES, INSTALLED_APPS, MIDDLEWARE, env_bool  # noqa: E402

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "[::1]"]

# Hashing cost is not what tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Plain HTTP and static files from the apps' folders (no collectstatic before a test run).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Tests apply stored provider events by calling the service, so a test sees exactly what it
# applied; the tests of the worker itself (and the gunicorn runs) turn it on.
PAYMENT_EVENTS_WORKER = env_bool("PAYMENT_EVENTS_WORKER", False)

# The debug toolbar (DEBUG=1 in a developer's shell) would add queries to every pinned count.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "debug_toolbar"]
MIDDLEWARE = [m for m in MIDDLEWARE if m != "debug_toolbar.middleware.DebugToolbarMiddleware"]


# A replica (DATABASE_REPLICA_URL) is, in tests, another database than the primary, never a
# mirror of it: pytest-django creates and migrates test_<its name> beside test_<primary>, and
# tests/conftest.py `replicate()` plays the replication, so that a list read from the wrong
# alias finds the wrong rows (tests/wemoov/test_replica.py). A real replica gets its schema by
# replication; the test one gets it from migrate, which the product router refuses it.
if "replica" in DATABASES:
    _where = lambda db: (db["HOST"], db["PORT"], db["NAME"])  # noqa: E731
    if _where(DATABASES["replica"]) == _where(DATABASES["default"]):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name another database than DATABASE_URL in tests.")

    class TestReplicaRouter(ReplicaRouter):
        def allow_migrate(self, db, app_label, model_name=None, **hints):
            return True

    DATABASE_ROUTERS = [TestReplicaRouter()]
