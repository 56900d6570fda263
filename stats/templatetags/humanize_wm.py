from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def thousands(value):
    """1234567 -> "1 234 567", Decimal("1250.50") -> "1 250.50" (a thin, locale-free grouping)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,.2f}".replace(",", "\u202f")
    try:
        return f"{int(value):,}".replace(",", "\u202f")
    except (TypeError, ValueError):
        return value
