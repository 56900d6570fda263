from django.urls import path
from rest_framework.routers import SimpleRouter

from fleet.api import DriverMeView, DriverViewSet, VehicleViewSet

router = SimpleRouter(trailing_slash=True)
router.register("drivers", DriverViewSet, basename="driver")
router.register("vehicles", VehicleViewSet, basename="vehicle")

urlpatterns = [
    # Before the router, so that "me" is not read as a driver id.
    path("drivers/me/", DriverMeView.as_view(), name="driver-me"),
    *router.urls,
]
