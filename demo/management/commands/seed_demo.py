"""Fill the database with realistic, deterministic demo data.

Sizes come from flags; rows go in with COPY on PostgreSQL and with batched bulk inserts on
SQLite, constraints and indexes intact. Dates spread over the last
13 months, recent months busier, so every statistic and chart has something to show.
Nothing imports this module: it is a tool over every app, like the benchmark.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from knox.models import AuthToken
from tqdm import tqdm

from bookings.models import Booking, BookingStatus, ServiceType
from bookings.services import booking_price, great_circle_km
from demo.abidjan import LAT, LNG  # pickups and drop-offs in Abidjan, where dispatch_simulate drives
from fleet.models import Driver, Vehicle, VehicleType
from payments.models import Payment, PaymentMethod, PaymentStatus
from users.models import Role, User
from wemoov.models import IdempotencyRecord

DAYS = 395  # 13 months
STREETS = [
    "Boulevard Latrille",
    "Rue des Jardins",
    "Avenue Chardy",
    "Boulevard VGE",
    "Rue du Commerce",
    "Avenue Noguès",
    "Boulevard de Marseille",
    "Rue Lepic",
    "Avenue Terrasson",
    "Rue Paris Village",
]
FIRST = [
    "Awa",
    "Koffi",
    "Fatou",
    "Yao",
    "Aminata",
    "Ibrahim",
    "Mariam",
    "Serge",
    "Adjoua",
    "Moussa",
    "Aïcha",
    "Kouassi",
    "Nadia",
    "Oumar",
    "Grace",
    "Didier",
]
LAST = ["Konan", "Traoré", "Kouadio", "Diallo", "Coulibaly", "Bamba", "N'Guessan", "Touré", "Koné", "Yao"]
RECENT_SHARE = 0.06  # bookings made in the last 48 hours
RECENT_STATUS_WEIGHTS = {
    BookingStatus.PENDING: 25,
    BookingStatus.CONFIRMED: 20,
    BookingStatus.IN_PROGRESS: 20,
    BookingStatus.COMPLETED: 30,
    BookingStatus.CANCELLED: 5,
}
SERVICE_WEIGHTS = {ServiceType.RIDE: 60, ServiceType.DELIVERY: 30, ServiceType.RENTAL: 10}
METHOD_WEIGHTS = {PaymentMethod.MOBILE_MONEY: 50, PaymentMethod.CARD: 30, PaymentMethod.CASH: 20}
VEHICLES = {
    VehicleType.MOTORBIKE: [("Yamaha", "Crypton", 2), ("Honda", "CG 125", 2)],
    VehicleType.CAR: [("Toyota", "Corolla", 4), ("Hyundai", "Accent", 4), ("Kia", "Rio", 4)],
    VehicleType.VAN: [("Toyota", "HiAce", 12), ("Renault", "Master", 9)],
    VehicleType.TRUCK: [("Isuzu", "NPR", 3), ("Mercedes", "Atego", 3)],
}


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Command(BaseCommand):
    help = "Seed realistic demo data (deterministic with --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=500)
        parser.add_argument("--drivers", type=int, default=50)
        parser.add_argument("--vehicles", type=int, default=60)
        parser.add_argument("--bookings", type=int, default=3000)
        parser.add_argument("--payments", type=int, default=2500)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--batch-size", type=int, default=5000)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--append", action="store_true", help="add to existing data")
        mode.add_argument("--flush", action="store_true", help="delete existing data first")
        mode.add_argument("--if-empty", action="store_true", help="do nothing (exit 0) when data exists")
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=0,
            help="date everything at least this many days back (the benchmark's older history)",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        if opts["drivers"] > opts["users"]:
            raise CommandError("--drivers cannot exceed --users (drivers are users).")
        if min(opts["users"], opts["drivers"], opts["vehicles"], opts["bookings"], opts["payments"]) < 0:
            raise CommandError("Sizes must not be negative.")
        has_data = Booking.objects.exists() or User.objects.filter(is_superuser=False).exists()
        if has_data and opts["if_empty"]:
            self.stdout.write("Database already has data; nothing seeded.")
            return
        if has_data and not (opts["append"] or opts["flush"]):
            raise CommandError("The database is not empty: pass --append to add to it or --flush to replace it.")
        if opts["flush"]:
            self._flush()

        self.rng = random.Random(opts["seed"])
        self.now = timezone.now()
        self.batch = opts["batch_size"]
        self.progress = not opts["no_progress"]
        self.older_than = timedelta(days=opts["older_than_days"])
        # Unique suffix for --append, so emails, plates and licenses never collide.
        self.tag = f"{(User.objects.order_by('-pk').values_list('pk', flat=True).first() or 0):x}"

        started = timezone.now()
        clients, drivers = self._users(opts["users"], opts["drivers"])
        vehicles_by_driver = self._vehicles(opts["vehicles"], drivers)
        total_bookings, total_payments = self._bookings_and_payments(
            opts["bookings"], opts["payments"], clients, drivers, vehicles_by_driver
        )
        seconds = (timezone.now() - started).total_seconds()
        rows = opts["users"] + opts["drivers"] + opts["vehicles"] + total_bookings + total_payments
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {opts['users']} users ({opts['drivers']} drivers), {opts['vehicles']} vehicles, "
                f"{total_bookings} bookings, {total_payments} payments in {seconds:.1f}s "
                f"({rows / max(seconds, 1e-9):,.0f} rows/s)."
            )
        )

    # --- helpers ---------------------------------------------------------------------------
    def _bar(self, total: int, desc: str):
        return tqdm(total=total, desc=desc, unit="rows", disable=not self.progress, file=self.stderr._out)

    def _past(self) -> timezone.datetime:
        # Recent months busier: a triangular distribution leaning towards today.
        days = self.rng.triangular(0, DAYS, 0)
        return self.now - self.older_than - timedelta(days=days, seconds=self.rng.randint(0, 86_399))

    def _flush(self) -> None:
        with transaction.atomic():
            IdempotencyRecord.objects.all().delete()
            Payment.objects.all().delete()
            Booking.objects.all().delete()
            Vehicle.objects.all().delete()
            Driver.objects.all().delete()
            AuthToken.objects.filter(user__is_superuser=False).delete()
            User.objects.filter(is_superuser=False).delete()

    def _insert(self, model, objects, bar=None):
        if connection.vendor == "postgresql":
            created = self._copy(model, objects)
        else:
            created = model.objects.bulk_create(objects, batch_size=self.batch)
        if bar is not None:
            bar.update(len(objects))
        return created

    @staticmethod
    def _copy(model, objects: list) -> list:
        """PostgreSQL's COPY, several times faster than INSERT for large batches: ids are
        taken from the table's sequence first, so the rows come back with their keys as
        bulk_create's would. Every constraint and index still applies to each row."""
        if not objects:
            return objects
        opts = model._meta
        fields = list(opts.concrete_fields)
        now = timezone.now()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [opts.db_table, opts.pk.column, len(objects)],
            )
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
                for field in fields:
                    if getattr(field, "auto_now", False):
                        setattr(obj, field.attname, now)
            columns = ", ".join(quote(field.column) for field in fields)
            with cursor.cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy:
                for obj in objects:
                    copy.write_row([getattr(obj, field.attname) for field in fields])
        return objects

    def _users(self, n_users: int, n_drivers: int):
        password = make_password("demo-password-not-for-login")
        rng, clients, driver_users = self.rng, [], []
        with self._bar(n_users, "users") as bar:
            for start in range(0, n_users, self.batch):
                chunk = []
                for i in range(start, min(n_users, start + self.batch)):
                    role = Role.DRIVER if i < n_drivers else Role.CLIENT
                    chunk.append(
                        User(
                            email=f"{role}{i}.{self.tag}@demo.wemoov.test",
                            first_name=rng.choice(FIRST),
                            last_name=rng.choice(LAST),
                            phone=f"+225 07 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                            role=role,
                            is_staff=False,
                            is_active=rng.random() > 0.05,
                            password=password,
                            created_at=self._past() - timedelta(days=30),
                        )
                    )
                with transaction.atomic():
                    created = self._insert(User, chunk, bar)
                for user in created:
                    (driver_users if user.role == Role.DRIVER else clients).append(user.pk)
        drivers = []
        with self._bar(len(driver_users), "drivers") as bar:
            for start in range(0, len(driver_users), self.batch):
                chunk = []
                for i, user_id in enumerate(driver_users[start : start + self.batch], start):
                    count = rng.randint(0, 400) if rng.random() > 0.1 else 0
                    total = round(rng.uniform(3.2, 5.0) * count)
                    chunk.append(
                        Driver(
                            user_id=user_id,
                            license_number=f"CI-{self.tag}-{i:07d}",
                            is_available=rng.random() > 0.3,
                            rating=(Decimal(total) / count).quantize(Decimal("0.01")) if count else None,
                            rating_count=count,
                            rating_total=total,
                            created_at=self.now - timedelta(days=rng.uniform(0, DAYS)),
                        )
                    )
                with transaction.atomic():
                    drivers.extend(d.pk for d in self._insert(Driver, chunk, bar))
        return clients, drivers

    def _vehicles(self, n_vehicles: int, drivers: list[int]) -> dict[int, int]:
        rng, by_driver = self.rng, {}
        with self._bar(n_vehicles, "vehicles") as bar:
            for start in range(0, n_vehicles, self.batch):
                chunk = []
                for i in range(start, min(n_vehicles, start + self.batch)):
                    kind = rng.choices(list(VEHICLES), weights=[35, 45, 12, 8])[0]
                    make, model, capacity = rng.choice(VEHICLES[kind])
                    driver_id = drivers[i % len(drivers)] if drivers and rng.random() > 0.1 else None
                    chunk.append(
                        Vehicle(
                            driver_id=driver_id,
                            type=kind,
                            make=make,
                            model=model,
                            plate_number=f"{self.tag}-{i:07d}-CI",
                            capacity=capacity,
                            is_available=rng.random() > 0.2,
                            created_at=self.now - timedelta(days=rng.uniform(0, DAYS)),
                        )
                    )
                with transaction.atomic():
                    for vehicle in self._insert(Vehicle, chunk, bar):
                        if vehicle.driver_id:
                            by_driver.setdefault(vehicle.driver_id, vehicle.pk)
        return by_driver

    def _booking(self, clients, drivers, vehicles_by_driver) -> Booking:
        rng = self.rng
        if not self.older_than and rng.random() < RECENT_SHARE:
            # Today's activity: open bookings are recent.
            created = self.now - timedelta(hours=rng.uniform(0, 48))
            status = _weighted(rng, RECENT_STATUS_WEIGHTS)
        else:
            created = self._past()
            # Older bookings are settled.
            status = BookingStatus.COMPLETED if rng.random() < 0.85 else BookingStatus.CANCELLED
        service = _weighted(rng, SERVICE_WEIGHTS)
        p_lat, p_lng = rng.uniform(*LAT), rng.uniform(*LNG)
        d_lat, d_lng = rng.uniform(*LAT), rng.uniform(*LNG)
        distance = great_circle_km(p_lat, p_lng, d_lat, d_lng)
        assigned = status not in (BookingStatus.PENDING, BookingStatus.CANCELLED) or (
            status == BookingStatus.CANCELLED and rng.random() < 0.5
        )
        driver_id = rng.choice(drivers) if assigned and drivers else None
        if driver_id is None and status not in (BookingStatus.PENDING, BookingStatus.CANCELLED):
            status = BookingStatus.PENDING  # no drivers at all: nothing can have been accepted
        return Booking(
            user_id=rng.choice(clients),
            driver_id=driver_id,
            vehicle_id=vehicles_by_driver.get(driver_id) if driver_id else None,
            service_type=service,
            status=status,
            pickup_address=f"{rng.randint(1, 300)} {rng.choice(STREETS)}, Abidjan",
            pickup_lat=round(p_lat, 6),
            pickup_lng=round(p_lng, 6),
            dropoff_address=f"{rng.randint(1, 300)} {rng.choice(STREETS)}, Abidjan",
            dropoff_lat=round(d_lat, 6),
            dropoff_lng=round(d_lng, 6),
            distance_km=distance,
            price=booking_price(service_type=service, distance_km=distance),
            scheduled_date=created + timedelta(minutes=rng.randint(5, 60 * 48)),
            rating=rng.randint(3, 5) if status == BookingStatus.COMPLETED and rng.random() < 0.6 else None,
            created_at=created,
        )

    def _payments_for(self, bookings: list[Booking], quota: int) -> list[Payment]:
        """`quota` payments for this batch: one per booking first (its status following the
        booking's), then extra failed attempts; never two completed for one booking."""
        rng, currency, payments = self.rng, settings.WEMOOV_CURRENCY, []
        for i in range(quota):
            booking = bookings[i % len(bookings)]
            if i >= len(bookings):
                status = PaymentStatus.FAILED
            elif booking.status == BookingStatus.COMPLETED:
                status = rng.choices(
                    [PaymentStatus.COMPLETED, PaymentStatus.REFUNDED, PaymentStatus.FAILED], weights=[90, 4, 6]
                )[0]
            elif booking.status == BookingStatus.CANCELLED:
                status = PaymentStatus.FAILED
            else:
                status = PaymentStatus.PENDING
            payments.append(
                Payment(
                    booking_id=booking.pk,
                    user_id=booking.user_id,
                    amount=booking.price,
                    currency=currency,
                    method=_weighted(rng, METHOD_WEIGHTS),
                    status=status,
                    created_at=min(self.now, booking.created_at + timedelta(minutes=rng.randint(1, 180))),
                )
            )
        return payments

    def _bookings_and_payments(self, n_bookings, n_payments, clients, drivers, vehicles_by_driver):
        if n_bookings and not clients:
            raise CommandError("Bookings need clients: --users must exceed --drivers.")
        if n_payments and not n_bookings:
            raise CommandError("Payments need bookings.")
        made_bookings = made_payments = 0
        with self._bar(n_bookings + n_payments, "bookings+payments") as bar:
            for start in range(0, n_bookings, self.batch):
                size = min(self.batch, n_bookings - start)
                chunk = [self._booking(clients, drivers, vehicles_by_driver) for _ in range(size)]
                # Spread payments evenly over the batches (integer arithmetic, exact total).
                quota = (start + size) * n_payments // n_bookings - start * n_payments // n_bookings
                with transaction.atomic():
                    created = self._insert(Booking, chunk, bar)
                    self._insert(Payment, self._payments_for(created, quota), bar)
                made_bookings += size
                made_payments += quota
        return made_bookings, made_payments
