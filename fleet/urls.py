from django.urls import path

from fleet.api import DriverMeView, DriverViewSet, VehicleViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("drivers", DriverViewSet, basename="driver")
router.register("vehicles", VehicleViewSet, basename="vehicle")

urlpatterns = [
    # Before the router, so that "me" is not read as a driver id.
    path("drivers/me/", DriverMeView.as_view(), name="driver-me"),
    *router.urls,
]
