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
