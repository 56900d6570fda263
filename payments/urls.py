from payments.api import PaymentViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = router.urls
