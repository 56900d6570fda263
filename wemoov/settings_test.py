"""Settings for the test suite (pytest-django loads this module, see pyproject.toml): the
product settings with only what tests need changed. Nothing in the product imports it."""

import os

# The product settings refuse to start without a secret when DEBUG is off; tests run with
# DEBUG off, as production does, so they get a throwaway key before the import.
os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only")

from wemoov.settings import *  # noqa: E402, F403
from wemoov.settings import INSTALLED_APPS, MIDDLEWARE  # noqa: E402

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

# The debug toolbar (DEBUG=1 in a developer's shell) would add queries to every pinned count.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "debug_toolbar"]
MIDDLEWARE = [m for m in MIDDLEWARE if m != "debug_toolbar.middleware.DebugToolbarMiddleware"]
