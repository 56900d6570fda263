from rest_framework.routers import SimpleRouter

from bookings.api import BookingViewSet

router = SimpleRouter(trailing_slash=True)
router.register("bookings", BookingViewSet, basename="booking")

urlpatterns = router.urls
