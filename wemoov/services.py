"""What every app's services share."""

from __future__ import annotations

from typing import Any, Final


class _Unchanged:
    """The default of an update service's keyword arguments: "leave this field as it is",
    distinct from None, which some fields (a vehicle's driver) may really be set to."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


def changed_fields(**fields: Any) -> dict[str, Any]:
    """The keyword arguments a caller really passed (those not left UNCHANGED)."""
    return {name: value for name, value in fields.items() if value is not UNCHANGED}


def assert_outside_transaction(what: str) -> None:
    """Refuse to call something outside the process (a payment provider) while this thread
    holds a database transaction open: its locks would be held for as long as the call takes.
    A test case's own wrapping transaction does not count."""
    from django.db import transaction

    blocks = transaction.get_connection().atomic_blocks
    if any(not getattr(block, "_from_testcase", False) for block in blocks):
        raise RuntimeError(f"{what} must not run inside a database transaction.")
