"""The payments' Prometheus metrics (django-prometheus exports every registered metric at
/metrics; under gunicorn, with PROMETHEUS_MULTIPROC_DIR, every process's counts add up, and
`payments_reconcile` run with the same directory adds its own)."""

from prometheus_client import Counter

PROVIDER_EVENTS = Counter(
    "wemoov_provider_events_total",
    "Provider callbacks by provider, event type and outcome (applied, duplicate, ignored, mismatch, rejected)",
    ["provider", "type", "outcome"],
)
PAYMENTS_RECONCILED = Counter(
    "wemoov_payments_reconciled_total",
    "Pending provider payments the reconciler asked about, by what it did "
    "(completed, failed, refunded, mismatch, unchanged, unavailable)",
    ["provider", "outcome"],
)
