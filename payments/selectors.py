"""Reads on payments: who sees what."""

from __future__ import annotations

from django.db.models import QuerySet

from payments.models import Payment
from users.models import Role, User


def payment_list_for(user: User) -> QuerySet[Payment]:
    """Clients see their own payments, drivers those of the bookings they drive, admins all."""
    payments = Payment.objects.all()
    if user.role == Role.ADMIN:
        return payments
    if user.role == Role.DRIVER:
        return payments.filter(booking__driver__user_id=user.pk)
    return payments.filter(user=user)
