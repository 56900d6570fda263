from rest_framework.routers import SimpleRouter

from payments.api import PaymentViewSet

router = SimpleRouter(trailing_slash=True)
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = router.urls
