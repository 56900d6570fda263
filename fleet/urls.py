from django.urls import include, path

from fleet.api import DriverLocationView, DriverMeView, DriverViewSet, VehicleViewSet
from wemoov.routers import ApiRouter

drivers, vehicles = ApiRouter(), ApiRouter()
drivers.register("", DriverViewSet, basename="driver")
vehicles.register("", VehicleViewSet, basename="vehicle")

urlpatterns = [
    # "me" before the router, so that it is not read as a driver id.
    path(
        "drivers/",
        include(
            [
                path("me/", DriverMeView.as_view(), name="driver-me"),
                path("me/location/", DriverLocationView.as_view(), name="driver-me-location"),
                *drivers.urls,
            ]
        ),
    ),
    path("vehicles/", include(vehicles.urls)),
]
