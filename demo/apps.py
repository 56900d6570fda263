from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data: `seed_demo`, `demo_staff` and the factories that tests and the benchmark
    share. It touches every app and nothing imports it (see docs/architecture.md)."""

    name = "demo"
    verbose_name = "Demo data"
