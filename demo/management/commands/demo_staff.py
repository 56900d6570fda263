import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from users.groups import STAFF_GROUPS
from users.models import Role, User


class Command(BaseCommand):
    help = (
        "Create (or reset the password of) a local demo staff account and print its credentials: a "
        "superuser, or with --group a staff member who may do what those groups allow."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@wemoov.test")
        parser.add_argument(
            "--group",
            action="append",
            choices=sorted(STAFF_GROUPS),
            help="a staff member in this shipped group, not a superuser (repeat for several)",
        )

    def handle(self, *args, email, group, **options):
        groups = list(Group.objects.filter(name__in=group or []))
        if len(groups) != len(set(group or [])):
            raise CommandError("The shipped groups are missing: run `manage.py migrate`.")
        password = secrets.token_urlsafe(12)
        superuser = not group
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            create = User.objects.create_superuser if superuser else User.objects.create_user
            user = create(email=email, password=password, first_name="Demo", last_name="Staff", role=Role.ADMIN)
        else:
            user.role, user.is_active, user.is_superuser = Role.ADMIN, True, superuser
            user.set_password(password)
            user.save()
        user.groups.set(groups)
        what = "superuser" if superuser else f"staff in {', '.join(sorted(group))}"
        self.stdout.write(self.style.SUCCESS(f"Demo staff account ({what}): {user.email} / {password}"))
