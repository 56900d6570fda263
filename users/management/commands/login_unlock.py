from django.core.management.base import BaseCommand, CommandError

from users.lockout import login_unlock


class Command(BaseCommand):
    help = (
        "Lift the login lockout of an account (its failures are forgotten: it may log in at once, "
        "in the admin and the API) and/or of an address (the admin's per-address count)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?", help="the account's email (any case)")
        parser.add_argument("--address", help="a client address, as the lockout counts it (see NUM_PROXIES)")

    def handle(self, *args, email, address, **options):
        if not email and not address:
            raise CommandError("Name an account's email, an --address, or both.")
        login_unlock(email=email, address=address)
        named = [f"account {email}" if email else "", f"address {address}" if address else ""]
        self.stdout.write(self.style.SUCCESS(f"Unlocked {' and '.join(n for n in named if n)}."))
