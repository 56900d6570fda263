"""The payment providers, by name, and which one settles a new payment.

`provider_for_method("card")` is Stripe when `STRIPE_SECRET_KEY` is set, and None otherwise
(the embedded default: staff settle every payment by hand). A second provider (a mobile-money
aggregator) would add its module beside `stripe_checkout` and its line to `_configured`."""

from __future__ import annotations

import functools

from django.conf import settings

from payments.providers.base import Checkout, CheckoutState, InvalidEvent, Notice, Provider, minor_units

__all__ = [
    "Checkout",
    "CheckoutState",
    "InvalidEvent",
    "Notice",
    "Provider",
    "minor_units",
    "provider_for_method",
    "provider_named",
]


@functools.lru_cache(maxsize=4)
def _stripe(
    secret_key: str,
    webhook_secrets: tuple[str, ...],
    api_base: str,
    return_url: str,
    timeout: float,
    retries: int,
) -> Provider:
    from payments.providers.stripe_checkout import StripeCheckout

    return StripeCheckout(
        secret_key=secret_key,
        webhook_secrets=webhook_secrets,
        api_base=api_base,
        return_url=return_url,
        timeout=timeout,
        max_network_retries=retries,
    )


def _configured() -> dict[str, Provider]:
    # Read on every call (a dictionary lookup and a cached constructor), so that a test's
    # override_settings is seen at once.
    providers: dict[str, Provider] = {}
    if settings.STRIPE_SECRET_KEY:
        providers["stripe"] = _stripe(
            settings.STRIPE_SECRET_KEY,
            tuple(settings.STRIPE_WEBHOOK_SECRETS),
            settings.STRIPE_API_BASE,
            settings.PAYMENT_RETURN_URL,
            float(settings.STRIPE_TIMEOUT),
            int(settings.STRIPE_MAX_NETWORK_RETRIES),
        )
    return providers


# Which provider settles a new payment of each method (methods not listed: staff, by hand).
METHOD_PROVIDERS = {"card": "stripe"}


def provider_for_method(method: str) -> Provider | None:
    name = METHOD_PROVIDERS.get(method)
    return _configured().get(name) if name else None


def provider_named(name: str) -> Provider | None:
    """The configured provider of that name (None: not configured here)."""
    return _configured().get(name)
