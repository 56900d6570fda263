from bookings.api import BookingViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("bookings", BookingViewSet, basename="booking")

urlpatterns = router.urls
