from payments.api import BookingCancelViewSet, PaymentViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("payments", PaymentViewSet, basename="payment")
# The bookings' cancel action (it settles payments): /api/bookings/{id}/cancel/.
router.register("bookings", BookingCancelViewSet, basename="booking-cancel")

urlpatterns = router.urls
