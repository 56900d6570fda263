"""WeMoov settings: one module, every deployment difference read from the environment.

Embedded defaults (SQLite, locmem cache) let a new machine run with nothing installed;
production sets DATABASE_URL (PostgreSQL) and CACHE_URL (Redis). See `.env.example`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)

# No secret has a production default: without DEBUG the key must come from the environment.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "stats.apps.WemoovAdminConfig",  # the admin, opening on the statistics dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "corsheaders",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "wemoov.apps.WemoovConfig",
    "users",
    "fleet",
    "bookings",
    "payments",
    "stats",
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "wemoov.middleware.InvalidHeaderValueMiddleware",
    # Before anything that may answer (CommonMiddleware's redirects, WhiteNoise) so that
    # every /api/ response to an allowed origin carries its CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "wemoov.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wemoov.middleware.DatabaseUnavailableMiddleware",
    # A login refused by the lockout outside the API answers the lockout page (users/lockout.py).
    "users.lockout.LockoutMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "wemoov.urls"
WSGI_APPLICATION = "wemoov.wsgi.application"
ASGI_APPLICATION = "wemoov.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL picks the engine; SQLite in the project folder is the embedded default.
# On PostgreSQL, DATABASE_POOL=1 turns on Django's native psycopg pool (CONN_MAX_AGE must
# then be 0); otherwise connections persist for CONN_MAX_AGE seconds.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASE_POOL = env_bool("DATABASE_POOL", False)
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60)


def database_config(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "wemoov.db_backends.postgresql"
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
        if DATABASE_POOL:
            config["CONN_MAX_AGE"] = 0
            options["pool"] = {
                "min_size": env_int("DATABASE_POOL_MIN", 2),
                "max_size": env_int("DATABASE_POOL_MAX", 10),
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            }
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "django_prometheus.db.backends.sqlite3"
        # SQLite needs no persistent connection; WAL lets the dev server read while seeding.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
        config["TEST"] = {"NAME": None}
    return config


DATABASES = {"default": database_config(DATABASE_URL)}
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_config(DATABASE_REPLICA_URL)
    DATABASE_ROUTERS = ["wemoov.db_routers.ReplicaRouter"]

DB_VENDOR = "postgresql" if "postgresql" in DATABASES["default"]["ENGINE"] else "sqlite"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
# CACHE_URL (or REDIS_URL): locmem:// by default, redis://host:port/db for several processes.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or "locmem://"


def cache_config(url: str) -> dict:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "wemoov.cache_backends.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "wemoov"),
            "OPTIONS": {
                # A cache outage must fail fast, never hang a request.
                "socket_connect_timeout": 0.5,
                "socket_timeout": 0.5,
            },
        }
    if url.startswith("locmem://"):
        return {
            "BACKEND": "wemoov.cache_backends.LocMemCache",
            "LOCATION": url.removeprefix("locmem://") or "wemoov",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    if url.startswith("dummy://"):
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(f"Unsupported CACHE_URL scheme: {url.split('://')[0]}")


CACHES = {"default": cache_config(CACHE_URL)}

# Per-family time-to-live (seconds). The statistics are read from a summary the database
# keeps (constant cost), so they live about a second: the contract's freshness rule (every
# row committed at least 1 s before a request is counted) holds with a TTL of at most 1,
# counted from when the computation began.
WEMOOV_CACHE_TTLS = {
    "dashboard": float(os.environ.get("CACHE_TTL_DASHBOARD", "1")),
    "revenue": float(os.environ.get("CACHE_TTL_REVENUE", "1")),
    "user_stats": env_int("CACHE_TTL_USER_STATS", 120),
    "auth_token": env_int("CACHE_TTL_AUTH_TOKEN", 60),
}
# Stale-while-revalidate window after the TTL: the previous value is served at once while
# one caller recomputes it.
WEMOOV_CACHE_SWR = env_int("CACHE_SWR", 60)
# Families that never serve a stale value (a stale statistic would break the freshness rule).
WEMOOV_CACHE_SWRS = {"dashboard": 0, "revenue": 0}
# Families whose fresh entries each process also keeps in memory. A copy is served without a
# round trip of its own only once the request has read the family's version from the shared
# cache in a round trip it makes anyway (the token lookup), so a refresh is still seen at
# once in every process (wemoov/cache.py). Empty: every warm read asks the shared cache.
WEMOOV_CACHE_LOCAL = frozenset(env_list("CACHE_LOCAL_FAMILIES", "dashboard,revenue"))
# How long callers wait for another caller's computation of a missing key (seconds).
WEMOOV_CACHE_LOCK_WAIT = float(os.environ.get("CACHE_LOCK_WAIT", "5"))

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# One backend: ModelBackend with the login lockout (users/lockout.py), so that every login
# (the API's token, the admin's form) shares one count of failures per account.
AUTHENTICATION_BACKENDS = ["users.lockout.LoginBackend"]

# Login lockout (users/lockout.py): failures per account (staff, others) and, on the admin's
# login, per address, within LOGIN_LOCKOUT of each other, refuse further attempts for
# LOGIN_LOCKOUT, even with the right password. Counted in the cache.
LOGIN_FAILURE_LIMIT_STAFF = env_int("LOGIN_FAILURE_LIMIT_STAFF", 5)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 20)
LOGIN_FAILURE_LIMIT_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_ADDRESS", 5)
LOGIN_LOCKOUT = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- REST framework -----------------------------------------------------------------------
NUM_PROXIES = env_int("NUM_PROXIES", 0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES counts the trusted proxies in front: 0 or more.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Staff also need the permission users.access maps the endpoint to (a view that sets
    # its own permission_classes lists StaffPermission itself).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "users.access.StaffPermission"],
    "DEFAULT_PAGINATION_CLASS": "wemoov.pagination.CreatedAtCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["wemoov.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wemoov.http_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "wemoov.throttling.AnonRateThrottle",
        "wemoov.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "120/min"),
        "user": os.environ.get("THROTTLE_USER", "1200/min"),
        "auth": os.environ.get("THROTTLE_AUTH", "10/min"),
    },
    # The client IP for throttles is the connecting address; X-Forwarded-For is believed only
    # for the number of trusted proxies in front (wemoov.throttling, docs/deployment.md).
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("TOKEN_TTL_HOURS", 10)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WeMoov API",
    "DESCRIPTION": "Rides, deliveries and rentals: the contract frontends are built against.",
    # The TypeScript client's package version (clients/typescript/package.json follows it).
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The default enum hook, then the OpenAPI links of the workflows (wemoov/schema_links.py),
    # then Retry-After on every 429 (wemoov/schema.py), then each staff operation's permission
    # in its 403 (users.access, through users/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wemoov.schema_links.add_links",
        "wemoov.schema.add_retry_after",
        "users.schema.staff_permissions",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "users.models.Role",
        "RegisterRoleEnum": [("client", "Client"), ("driver", "Driver")],
        "BookingStatusEnum": "bookings.models.BookingStatus",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
    },
}

# --- Browsers on other origins (django-cors-headers) ----------------------------------------
# Only the listed origins (scheme://host[:port], comma-separated; none by default) may call
# /api/ from a browser. Token auth travels in a header, so no cookies cross origins.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ("authorization", "content-type", "idempotency-key")
CORS_EXPOSE_HEADERS = ("retry-after", "x-cache", "idempotent-replayed")
CORS_ALLOW_CREDENTIALS = False
CORS_PREFLIGHT_MAX_AGE = 3600

# Request bodies larger than this are refused (413) before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)

# --- Business settings --------------------------------------------------------------------
WEMOOV_CURRENCY = os.environ.get("WEMOOV_CURRENCY", "XOF")
# Price = base fare + per-km rate x great-circle distance, per service type.
WEMOOV_PRICING = {
    "ride": {"base": "500.00", "per_km": "150.00"},
    "delivery": {"base": "800.00", "per_km": "120.00"},
    "rental": {"base": "5000.00", "per_km": "100.00"},
}
WEMOOV_SCHEDULE_GRACE_SECONDS = 60
WEMOOV_IDEMPOTENCY_TTL_HOURS = 24

# --- Card payments settled by Stripe (payments/providers, docs/api.md) -----------------------
# Without STRIPE_SECRET_KEY (the embedded default) card payments wait for staff, as every
# other payment does. STRIPE_WEBHOOK_SECRETS: one or more (comma-separated) so that a secret
# can be rotated; STRIPE_API_BASE: Stripe's own unless a test points it at a stand-in.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRETS = env_list("STRIPE_WEBHOOK_SECRETS")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_TIMEOUT = float(os.environ.get("STRIPE_TIMEOUT", "10"))
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 1)
PAYMENT_RETURN_URL = os.environ.get("PAYMENT_RETURN_URL", "")
PAYMENT_RECONCILE_AFTER = env_int("PAYMENT_RECONCILE_AFTER", 600)
# Each server process applies the events it stores in a thread of its own (payments/inbox.py).
PAYMENT_EVENTS_WORKER = env_bool("PAYMENT_EVENTS_WORKER", True)
if STRIPE_SECRET_KEY and not (STRIPE_WEBHOOK_SECRETS and PAYMENT_RETURN_URL):
    raise ImproperlyConfigured("STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRETS and PAYMENT_RETURN_URL.")
# --- Dispatch (live positions, wemoov/geo.py) -----------------------------------------------
# A reported position counts this many seconds; at most one report per driver is stored per
# interval; searches default to this radius (the API allows up to 50 km).
DISPATCH_LOCATION_TTL = float(os.environ.get("DISPATCH_LOCATION_TTL", "60"))
DISPATCH_LOCATION_INTERVAL = float(os.environ.get("DISPATCH_LOCATION_INTERVAL", "4"))
DISPATCH_RADIUS_KM = float(os.environ.get("DISPATCH_RADIUS_KM", "5"))
# --- CSV exports of the admin's lists (wemoov/exports.py) -------------------------------------
# Rows read per keyset batch (one query each, one chunk of the response): memory holds one batch.
EXPORT_BATCH_SIZE = env_int("EXPORT_BATCH_SIZE", 5000)
# On PostgreSQL, which writes the lines itself, rows per statement (memory holds EXPORT_BATCH_SIZE lines).
EXPORT_COPY_BATCH_SIZE = env_int("EXPORT_COPY_BATCH_SIZE", 50000)

# --- Observability ------------------------------------------------------------------------
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
SLOW_QUERY_MS = env_int("SLOW_QUERY_MS", 200)
PROMETHEUS_EXPORT_MIGRATIONS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "wemoov.slow_query": {"level": "WARNING"},
        # The Stripe library logs every request at INFO; payments log what goes wrong.
        "stripe": {"level": "WARNING"},
    },
}

# --- Security (production) ----------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Development --------------------------------------------------------------------------
if DEBUG:
    try:
        import debug_toolbar  # noqa: F401
    except ImportError:  # the toolbar is a dev requirement only
        pass
    else:
        INSTALLED_APPS.append("debug_toolbar")
        MIDDLEWARE.insert(2, "debug_toolbar.middleware.DebugToolbarMiddleware")
        INTERNAL_IPS = ["127.0.0.1"]

if DB_VENDOR == "sqlite":
    # Covering (INCLUDE) indexes exist on PostgreSQL only; SQLite keeps the key columns.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
