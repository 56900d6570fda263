from django.urls import include, path

from bookings.api import BookingViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("", BookingViewSet, basename="booking")

urlpatterns = [path("bookings/", include(router.urls))]
