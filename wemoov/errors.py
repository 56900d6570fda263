"""The project's domain errors: what a service raises when a rule refuses an action.

They know nothing of HTTP, so the API, the admin, management commands and scripts all call
the same services and catch the same errors. `wemoov.http_errors` is the one place that
turns them into responses: `InvalidInput` → 400 field errors, `NotPermitted` → 403, each
`Conflict` → 409 `{"detail", "code"}` with the contract's code, and `TooManyAttempts` → 429
with `Retry-After`.
"""

from __future__ import annotations


class DomainError(Exception):
    default_message = "This action was refused."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule, as field errors: `{"field": ["message", ...]}`."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))

    @classmethod
    def on(cls, field: str, message: str) -> InvalidInput:
        return cls({field: [message]})


class NotPermitted(DomainError):
    """The actor may see the object but not act on it."""

    default_message = "You may not perform this action."


class TooManyAttempts(DomainError):
    """A limit refuses the attempt before it is evaluated (the login lockout); it may be made
    again in `retry_after` seconds."""

    default_message = "Too many attempts."

    def __init__(self, message: str | None = None, *, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


class Conflict(DomainError):
    """The object's current state forbids the action. Each subclass is one of the
    contract's 409 codes."""

    code = "conflict"
    default_message = "Conflict."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "This action is not allowed in the object's current status."


class AlreadyTaken(Conflict):
    code = "already_taken"
    default_message = "This booking has already been taken by another driver."


class AlreadyPaid(Conflict):
    code = "already_paid"
    default_message = "This booking already has a completed payment."


class BookingCancelled(Conflict):
    code = "booking_cancelled"
    default_message = "This booking has been cancelled."


class DriverUnavailable(Conflict):
    code = "driver_unavailable"
    default_message = "The driver is not available."


class NoAvailableVehicle(Conflict):
    code = "no_available_vehicle"
    default_message = "The driver has no available vehicle."


class RequestInProgress(Conflict):
    code = "request_in_progress"
    default_message = "A request with this Idempotency-Key is still being processed."


class ProviderUnavailable(DomainError):
    """A payment provider (Stripe) could not be reached or refused the request: nothing was
    changed here (502 `provider_unavailable`)."""

    code = "provider_unavailable"
    default_message = "The payment provider is unavailable; nothing was changed. Try again shortly."


class NoLocation(Conflict):
    code = "no_location"
    default_message = "No recent position: report your location first."


# The contract's 409 codes, in the order the contract lists them (the schema's enum).
CONFLICT_CODES: tuple[str, ...] = tuple(cls.code for cls in Conflict.__subclasses__())
