import secrets

from django.core.management.base import BaseCommand

from users.models import Role, User


class Command(BaseCommand):
    help = "Create (or reset the password of) the local demo staff account and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@wemoov.test")

    def handle(self, *args, email, **options):
        password = secrets.token_urlsafe(12)
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            user = User.objects.create_superuser(email=email, password=password, first_name="Demo", last_name="Admin")
        else:
            user.role, user.is_active, user.is_superuser = Role.ADMIN, True, True
            user.set_password(password)
            user.save()
        self.stdout.write(self.style.SUCCESS(f"Demo staff account: {user.email} / {password}"))
