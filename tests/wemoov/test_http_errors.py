"""The one place where errors become HTTP answers in the contract's shape."""

import pytest

from demo.factories import PaymentFactory
from payments.models import Payment
from wemoov import errors
from wemoov.http_errors import exception_handler

pytestmark = pytest.mark.django_db


def answer(exc):
    response = exception_handler(exc, {})
    return response.status_code, response.data


def test_each_conflict_answers_409_with_its_contract_code():
    assert answer(errors.AlreadyPaid()) == (409, {"detail": errors.AlreadyPaid.default_message, "code": "already_paid"})
    assert answer(errors.InvalidTransition("Cannot start a booking that is pending.")) == (
        409,
        {"detail": "Cannot start a booking that is pending.", "code": "invalid_transition"},
    )


def test_invalid_input_answers_400_field_errors():
    status, data = answer(errors.InvalidInput.on("booking", "Not yours."))
    assert status == 400
    assert data == {"booking": ["Not yours."]}


def test_not_permitted_answers_403():
    assert answer(errors.NotPermitted("Only the booking's driver may do this.")) == (
        403,
        {"detail": "Only the booking's driver may do this.", "code": "permission_denied"},
    )


def test_a_row_deleted_between_the_view_and_the_service_answers_404():
    # The view found the payment; it was deleted before the service's locking read.
    payment = PaymentFactory()
    Payment.objects.filter(pk=payment.pk).delete()
    with pytest.raises(Payment.DoesNotExist) as caught:
        Payment.objects.select_for_update().get(pk=payment.pk)
    assert answer(caught.value) == (404, {"detail": "Not found.", "code": "not_found"})
