"""Root URLs: the admin, the API of every app, schema and docs, health and metrics."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from bookings.api import BookingViewSet
from fleet.api import DriverMeView, DriverViewSet, RegisterView, VehicleViewSet
from payments.api import PaymentViewSet
from stats.api import DashboardView, MeView, RefreshView, RevenueView
from users.api import LoginView, LogoutView, UserViewSet
from wemoov.ops import favicon, health, metrics

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")
router.register("drivers", DriverViewSet, basename="driver")
router.register("vehicles", VehicleViewSet, basename="vehicle")
router.register("bookings", BookingViewSet, basename="booking")
router.register("payments", PaymentViewSet, basename="payment")

api = [
    path("auth/register/", RegisterView.as_view(), name="auth-register"),
    path("auth/token/", LoginView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    # Declared before the router so that "me" is not read as a user or driver id.
    path("users/me/", MeView.as_view(), name="user-me"),
    path("drivers/me/", DriverMeView.as_view(), name="driver-me"),
    path("stats/dashboard/", DashboardView.as_view(), name="stats-dashboard"),
    path("stats/revenue/", RevenueView.as_view(), name="stats-revenue"),
    path("stats/refresh/", RefreshView.as_view(), name="stats-refresh"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon),
]

handler400 = "wemoov.exceptions.handler400"
handler403 = "wemoov.exceptions.handler403"
handler404 = "wemoov.exceptions.handler404"
handler500 = "wemoov.exceptions.handler500"

if "debug_toolbar" in settings.INSTALLED_APPS:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
