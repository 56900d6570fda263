import os
import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from users.groups import STAFF_GROUPS
from users.models import Role, User

ENV = "DEMO_STAFF_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create the local demo staff account (or restore its staff rights) and print its login: a "
        "superuser, or with --group a staff member who may do what those groups allow. Its "
        f"password is stable across runs: {ENV} when set, else one made on creation, printed then, "
        "and kept; --reset makes a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@wemoov.test")
        parser.add_argument("--reset", action="store_true", help="Make a new password and print it.")
        parser.add_argument(
            "--group",
            action="append",
            choices=sorted(STAFF_GROUPS),
            help="a staff member in this shipped group, not a superuser (repeat for several)",
        )

    def handle(self, *args, email, reset, group, **options):
        groups = list(Group.objects.filter(name__in=group or []))
        if len(groups) != len(set(group or [])):
            raise CommandError("The shipped groups are missing: run `manage.py migrate`.")
        superuser = not group
        what = "superuser" if superuser else f"staff in {', '.join(sorted(group))}"
        wanted = os.environ.get(ENV) or None
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            password = wanted or secrets.token_urlsafe(12)
            create = User.objects.create_superuser if superuser else User.objects.create_user
            user = create(email=email, password=password, first_name="Demo", last_name="Staff", role=Role.ADMIN)
            user.groups.set(groups)
            self._print_login(user, password, what=what, made=wanted is None)
            return

        user.role, user.is_active, user.is_superuser = Role.ADMIN, True, superuser
        password = None
        if wanted is not None and not user.check_password(wanted):
            password = wanted
        elif wanted is None and reset:
            password = secrets.token_urlsafe(12)
        if password is not None:
            user.set_password(password)  # which signs out that account's tokens
        user.save()
        user.groups.set(groups)
        if password is not None:
            self._print_login(user, password, what=what, made=wanted is None)
        elif wanted is not None:
            self.stdout.write(self.style.SUCCESS(f"Demo staff account ({what}): {user.email} / {wanted} (from {ENV})"))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo staff account ({what}): {user.email}, password unchanged (printed when it was made)"
                )
                + f"\n  Forgotten? `manage.py demo_staff --reset` makes a new one; {ENV}=... sets one."
            )

    def _print_login(self, user: User, password: str, *, what: str, made: bool) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo staff account ({what}): {user.email} / {password}"))
        if made:
            self.stdout.write(f"  Kept across `make run`; it is printed only now. {ENV}=... sets your own.")
