from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.services import payments_reconcile


class Command(BaseCommand):
    help = (
        "Apply the provider events still waiting, then ask the provider about every provider payment still "
        "pending after PAYMENT_RECONCILE_AFTER seconds and settle it as its events would (run from cron; "
        "safe twice at once and while callbacks arrive)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--after",
            type=int,
            default=None,
            help="seconds a payment must have been pending (default: PAYMENT_RECONCILE_AFTER)",
        )

    def handle(self, *args, after=None, **options):
        seconds = settings.PAYMENT_RECONCILE_AFTER if after is None else after
        if seconds < 0:
            raise CommandError("--after is a number of seconds, 0 or more.")
        counts = payments_reconcile(older_than=timedelta(seconds=seconds))
        summary = ", ".join(f"{name}: {number}" for name, number in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Reconciled: {summary}.")
