"""Root URLs: each app's API under /api/ (its own urls.py), the admin, schema and docs,
health and metrics. Which file serves which path: docs/architecture.md."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from wemoov.ops import favicon, health, metrics

api = [
    path("", include("users.urls")),
    path("", include("fleet.urls")),
    path("", include("bookings.urls")),
    path("", include("payments.urls")),
    path("", include("stats.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon),
]

handler400 = "wemoov.http_errors.handler400"
handler403 = "wemoov.http_errors.handler403"
handler404 = "wemoov.http_errors.handler404"
handler500 = "wemoov.http_errors.handler500"

if "debug_toolbar" in settings.INSTALLED_APPS:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
