from django.urls import include, path

from payments.api import PaymentViewSet, StripeWebhookView
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("", PaymentViewSet, basename="payment")

urlpatterns = [
    # Before the router's routes, so that no payment id pattern ever sees it.
    path("payments/webhooks/stripe/", StripeWebhookView.as_view(), name="payment-webhook-stripe"),
    path("payments/", include(router.urls)),
]
