from django.core.management.base import BaseCommand

from wemoov.idempotency import idempotency_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than WEMOOV_IDEMPOTENCY_TTL_HOURS (run from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {idempotency_purge()} expired idempotency records.")
