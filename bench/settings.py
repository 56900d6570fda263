"""Settings for the benchmark's gunicorn servers: the product settings plus `bench.urls`,
which adds a trivial endpoint to compare the API's endpoints with. The admin pages are
measured over plain HTTP on 127.0.0.1 and without a collectstatic run, so the cookies are
not marked Secure and static URLs are not looked up in a manifest."""

from wemoov.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
