"""Settings for the benchmark's gunicorn servers: the product settings plus `bench.urls`,
which adds a trivial endpoint to compare the API's endpoints with."""

from wemoov.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
