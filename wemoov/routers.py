"""The DRF router every app's urls.py uses."""

from rest_framework.routers import SimpleRouter


class ApiRouter(SimpleRouter):
    """Trailing slashes, and ids matched by Django's `int` path converter (ASCII digits only):
    with DRF's default lookup (`[^/.]+`) `int()` reads `/api/users/١/` (an Arabic-Indic one)
    as user 1. The converter also tells the schema the id is an integer."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=True, use_regex_path=False)

    def get_lookup_regex(self, viewset, lookup_prefix: str = "") -> str:
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        return f"<{getattr(viewset, 'lookup_value_converter', 'int')}:{lookup_prefix}{kwarg}>"
