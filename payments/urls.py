from django.urls import include, path

from payments.api import PaymentViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("", PaymentViewSet, basename="payment")

urlpatterns = [path("payments/", include(router.urls))]
