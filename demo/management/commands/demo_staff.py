import os
import secrets

from django.core.management.base import BaseCommand

from users.models import Role, User

ENV = "DEMO_STAFF_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create the local demo staff account (or restore its staff rights) and print its login. Its "
        f"password is stable across runs: {ENV} when set, else one made on creation, printed then, "
        "and kept; --reset makes a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@wemoov.test")
        parser.add_argument("--reset", action="store_true", help="Make a new password and print it.")

    def handle(self, *args, email, reset, **options):
        wanted = os.environ.get(ENV) or None
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            password = wanted or secrets.token_urlsafe(12)
            user = User.objects.create_superuser(email=email, password=password, first_name="Demo", last_name="Admin")
            self._print_login(user, password, made=wanted is None)
            return

        user.role, user.is_active, user.is_superuser = Role.ADMIN, True, True
        password = None
        if wanted is not None and not user.check_password(wanted):
            password = wanted
        elif wanted is None and reset:
            password = secrets.token_urlsafe(12)
        if password is not None:
            user.set_password(password)  # which signs out that account's tokens
        user.save()
        if password is not None:
            self._print_login(user, password, made=wanted is None)
        elif wanted is not None:
            self.stdout.write(self.style.SUCCESS(f"Demo staff account: {user.email} / {wanted} (from {ENV})"))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Demo staff account: {user.email}, password unchanged (printed when it was made)")
                + f"\n  Forgotten? `manage.py demo_staff --reset` makes a new one; {ENV}=... sets one."
            )

    def _print_login(self, user: User, password: str, *, made: bool) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo staff account: {user.email} / {password}"))
        if made:
            self.stdout.write(f"  Kept across `make run`; it is printed only now. {ENV}=... sets your own.")
