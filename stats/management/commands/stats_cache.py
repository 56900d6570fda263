from django.core.management.base import BaseCommand

from stats.services import stats_cache_clear, stats_cache_warm


class Command(BaseCommand):
    help = "Clear or warm the statistics cache (every key of the dashboard and revenue families)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["clear", "warm"])

    def handle(self, *args, action, **options):
        if action == "clear":
            stats_cache_clear()
            self.stdout.write("Statistics cache invalidated.")
        else:
            stats_cache_clear()
            for key, status in stats_cache_warm().items():
                self.stdout.write(f"{key}: {status}")
