from django.urls import include, path

from fleet.api import DriverMeView, DriverViewSet, VehicleViewSet
from wemoov.routers import ApiRouter

drivers, vehicles = ApiRouter(), ApiRouter()
drivers.register("", DriverViewSet, basename="driver")
vehicles.register("", VehicleViewSet, basename="vehicle")

urlpatterns = [
    # "me" before the router, so that it is not read as a driver id.
    path("drivers/", include([path("me/", DriverMeView.as_view(), name="driver-me"), *drivers.urls])),
    path("vehicles/", include(vehicles.urls)),
]
