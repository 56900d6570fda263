"""The staff login lockout, with django-axes (settings `AXES_*` in wemoov/settings.py).

Failures are counted in the database (axes' AccessAttempt rows), so every gunicorn worker
and every machine sees the same count, and staff see them in the admin (Axes → Access
attempts; deleting a row, or `manage.py axes_reset_username <email>`, unlocks). Only the
admin's login is counted and locked: the API's token endpoint keeps its own throttle, so
its failures and logins write no axes rows (and add no query to it).
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from rest_framework.settings import api_settings


class AdminLoginHandler(AxesDatabaseHandler):
    """axes' database handler, recording only what happens on the admin site."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and self.is_admin_request(request):
            return super().user_login_failed(sender, credentials, request, **kwargs)
        return None

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            return super().user_logged_in(sender, request, user, **kwargs)
        return None

    def user_logged_out(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            return super().user_logged_out(sender, request, user, **kwargs)
        return None


def client_ip(request) -> str | None:
    """The address a failure is counted against: the connecting address, or, behind
    NUM_PROXIES trusted proxies, the one they report (the API throttles' rule)."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = api_settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return remote


def login_name(request, credentials: dict | None) -> str | None:
    """The account a failure is counted against: the email as typed, lower-cased, as
    emails are stored (so `Admin@X` and `admin@x` share one count)."""
    source = credentials if credentials is not None else request.POST
    name = source.get("username") or source.get("email")
    return name.strip().lower() if isinstance(name, str) else None
