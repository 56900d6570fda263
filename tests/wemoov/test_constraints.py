"""The database itself refuses bad data: these bypass every serializer and service."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from bookings.models import Booking
from demo.factories import (
    BookingFactory,
    ClientFactory,
    DriverFactory,
    DriverUserFactory,
    PaymentFactory,
    VehicleFactory,
)
from fleet.models import Driver
from payments.models import Payment, PaymentStatus
from users.models import User

pytestmark = pytest.mark.django_db


def _refused(update) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        update()


def test_driver_rating_above_five_is_refused():
    driver = DriverFactory()
    _refused(lambda: Driver.objects.filter(pk=driver.pk).update(rating=Decimal("5.01")))


def test_driver_rating_below_zero_is_refused():
    driver = DriverFactory()
    _refused(lambda: Driver.objects.filter(pk=driver.pk).update(rating=Decimal("-0.01")))


def test_negative_payment_amount_is_refused():
    payment = PaymentFactory()
    _refused(lambda: Payment.objects.filter(pk=payment.pk).update(amount=Decimal("-1.00")))


def test_negative_booking_price_is_refused():
    booking = BookingFactory()
    _refused(lambda: Booking.objects.filter(pk=booking.pk).update(price=Decimal("-0.01")))


def test_negative_distance_is_refused():
    booking = BookingFactory()
    _refused(lambda: Booking.objects.filter(pk=booking.pk).update(distance_km=Decimal("-1")))


def test_coordinates_out_of_range_are_refused():
    booking = BookingFactory()
    _refused(lambda: Booking.objects.filter(pk=booking.pk).update(pickup_lat=90.5))


def test_booking_rating_outside_one_to_five_is_refused():
    booking = BookingFactory(status="completed", driver=DriverFactory())
    _refused(lambda: Booking.objects.filter(pk=booking.pk).update(rating=6))


def test_confirmed_booking_without_driver_is_refused():
    booking = BookingFactory()
    _refused(lambda: Booking.objects.filter(pk=booking.pk).update(status="confirmed"))


def test_unknown_status_is_refused():
    booking = BookingFactory()
    _refused(lambda: Booking.objects.filter(pk=booking.pk).update(status="teleported"))


def test_second_completed_payment_for_a_booking_is_refused():
    booking = BookingFactory()
    PaymentFactory(booking=booking, status=PaymentStatus.COMPLETED)
    _refused(lambda: PaymentFactory(booking=booking, status=PaymentStatus.COMPLETED))


def test_pending_and_failed_payments_for_a_paid_booking_are_allowed():
    booking = BookingFactory()
    PaymentFactory(booking=booking, status=PaymentStatus.COMPLETED)
    PaymentFactory(booking=booking, status=PaymentStatus.PENDING)
    PaymentFactory(booking=booking, status=PaymentStatus.FAILED)
    assert Payment.objects.filter(booking=booking).count() == 3


def test_driver_profile_for_a_client_user_is_refused():
    client = ClientFactory()
    _refused(lambda: Driver.objects.create(user=client, license_number="X-1"))


def test_turning_a_driver_into_a_client_is_refused():
    driver = DriverFactory()
    _refused(lambda: User.objects.filter(pk=driver.user_id).update(role="client"))


def test_driver_profile_for_a_driver_user_is_accepted():
    user = DriverUserFactory()
    assert Driver.objects.create(user=user, license_number="OK-1").pk


def test_duplicate_license_number_is_refused():
    DriverFactory(license_number="SAME")
    _refused(lambda: DriverFactory(license_number="SAME"))


def test_duplicate_plate_number_is_refused():
    VehicleFactory(plate_number="AA-1")
    _refused(lambda: VehicleFactory(plate_number="AA-1"))


def test_upper_case_email_is_refused_by_the_database():
    user = ClientFactory()
    _refused(lambda: User.objects.filter(pk=user.pk).update(email="Someone@Example.com"))


def test_emails_are_unique_regardless_of_case():
    ClientFactory(email="ada@example.com")
    _refused(lambda: User.objects.create_user(email="ADA@example.com", password="x"))


def test_staff_flag_follows_the_admin_role():
    user = ClientFactory()
    _refused(lambda: User.objects.filter(pk=user.pk).update(is_staff=True))
