"""Settings, read only through ``casemanager.env``.

Two shapes of deployment:

* embedded (nothing set): DEBUG on, SQLite in ``var/``, evidence in ``var/evidence``,
  Celery tasks executed in-process; a newcomer needs no server but this one.
* production (``DEBUG=false``): ``SECRET_KEY`` and ``ALLOWED_HOSTS`` are required,
  PostgreSQL and Redis come from ``DATABASE_URL`` and ``REDIS_URL``, cookies are secure.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from casemanager.env import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.string("VAR_DIR") or BASE_DIR / "var")

DEBUG = env.boolean("DEBUG", default=True)

if DEBUG:
    # Only the embedded dev mode has a fallback key; it is useless anywhere else.
    SECRET_KEY = env.string("SECRET_KEY") or "embedded-dev-only-insecure-key"
else:
    SECRET_KEY = env.required("SECRET_KEY", "production settings (DEBUG=false) need a secret key")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")

_LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", _LOOPBACK_HOSTS if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=false")
if DEBUG and not env.is_set("SECRET_KEY") and set(ALLOWED_HOSTS) - set(_LOOPBACK_HOSTS):
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS names a public host while DEBUG is on with the development key: "
        "set DEBUG=false and a SECRET_KEY to serve it"
    )

# Audit rows are HMAC-chained with this key; keep it apart from the database and never
# change it (rows hashed with the old key would no longer verify).
if DEBUG:
    AUDIT_KEY = env.string("AUDIT_KEY") or f"audit:{SECRET_KEY}"
else:
    AUDIT_KEY = env.required("AUDIT_KEY", "production settings need the key that seals the audit trail")
CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "evidence",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cases.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cases.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not DEBUG:
    # Production serves its collected static files itself; runserver does it in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "casemanager.urls"
WSGI_APPLICATION = "casemanager.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.context.unread_notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
_database_url = env.url("DATABASE_URL", schemes={"postgres", "postgresql", "sqlite"})
if not DEBUG and not _database_url:
    raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG=false (production runs on PostgreSQL)")
if _database_url:
    DATABASES: dict[str, Any] = {"default": dict(dj_database_url.parse(_database_url, conn_max_age=60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # One machine: writers take the lock up front, and WAL keeps readers and the writer apart.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery (embedded: in-process) ----------------------------------------------
REDIS_URL = env.url("REDIS_URL", schemes={"redis", "rediss"})
if not DEBUG and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when DEBUG=false (production runs Celery workers)")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The SQS consumer long-polls for up to a minute at a time: it gets workers of its own
# (`celery worker -Q sqs`), so that it never holds up captures, dossiers or webhooks.
CELERY_TASK_ROUTES = {"cases.tasks.sqs_consume": {"queue": "sqs"}}
CELERY_TASK_SOFT_TIME_LIMIT = env.integer("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
# A request that queues work after commit gives up on a broker that refuses or does not
# answer within seconds: its job is a committed row, and the sweepers queue it once Redis
# is back. The read timeout stays above the 1 s a worker waits on an empty queue.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

# Rate limits (API tokens) and other short-lived counters live in Redis when there is one.
CACHES = {
    "default": {
        "BACKEND": "casemanager.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        # A Redis that hangs must not hang requests: give up quickly and count locally.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Evidence storage -------------------------------------------------------------
EVIDENCE_STORAGE = env.choice("EVIDENCE_STORAGE", "local", {"local", "s3"})
EVIDENCE_ROOT = Path(env.string("EVIDENCE_ROOT") or VAR_DIR / "evidence")
EVIDENCE_MAX_BYTES = env.integer("EVIDENCE_MAX_BYTES", 512 * 1024 * 1024, minimum=1)
# Images larger than this are stored as evidence but never decoded (decompression bombs).
EVIDENCE_MAX_IMAGE_PIXELS = env.integer("EVIDENCE_MAX_IMAGE_PIXELS", 150_000_000, minimum=1)
# Evidence is flushed to disk before its row commits; only tests may turn this off.
EVIDENCE_FSYNC = env.boolean("EVIDENCE_FSYNC", default=True)

if EVIDENCE_STORAGE == "s3":
    _evidence_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.required("EVIDENCE_S3_BUCKET", "EVIDENCE_STORAGE=s3 needs a bucket"),
            "endpoint_url": env.url("EVIDENCE_S3_ENDPOINT_URL", schemes={"http", "https"}),
            "region_name": env.string("EVIDENCE_S3_REGION"),
            "access_key": env.string("EVIDENCE_S3_ACCESS_KEY_ID"),
            "secret_key": env.string("EVIDENCE_S3_SECRET_ACCESS_KEY"),
            "default_acl": None,
            "querystring_auth": True,
            # Content-addressed names: the same name always holds the same bytes.
            "file_overwrite": True,
        },
    }
else:
    _evidence_storage = {
        "BACKEND": "evidence.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": EVIDENCE_ROOT},
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "evidence": _evidence_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads over this size stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "evidence.uploads.StagingUploadHandler",
]
# Large uploads land next to the store, so ingesting them is a hash and a link, not a copy.
FILE_UPLOAD_TEMP_DIR = EVIDENCE_ROOT / ".staging" if EVIDENCE_STORAGE == "local" else None
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Auth, i18n, static --------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's backend, counting sign-in attempts on every way in (cases/signin.py).
AUTHENTICATION_BACKENDS = ["cases.signin.RateLimitedModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:dashboard"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins allowed per account and address, and per address alone, in LOGIN_WINDOW_MINUTES.
LOGIN_ATTEMPTS_PER_ACCOUNT = env.integer("LOGIN_ATTEMPTS_PER_ACCOUNT", 5, minimum=1)
LOGIN_ATTEMPTS_PER_ADDRESS = env.integer("LOGIN_ATTEMPTS_PER_ADDRESS", 30, minimum=1)
LOGIN_WINDOW_MINUTES = env.integer("LOGIN_WINDOW_MINUTES", 15, minimum=1)
# Password-reset links work this long.
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
INVITATION_DAYS = env.integer("INVITATION_DAYS", 7, minimum=1)

LANGUAGE_CODE = "en"
# The browser's Accept-Language chooses until the user picks one in the switcher.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = env.timezone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Security ------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: what an attacker manages to inject cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=True)
    if env.boolean("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env.is_set("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.string("EMAIL_HOST") or "localhost"
EMAIL_PORT = env.integer("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL") or "casemanager@localhost"
# Where people reach the app: links in e-mails point here.
SITE_URL = env.url("SITE_URL", schemes={"http", "https"}) or "http://127.0.0.1:8000"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})},
}

# --- Dossiers -------------------------------------------------------------------------------
# The PDF renderer runs in a child process with these limits.
DOSSIER_TIME_LIMIT_SECONDS = env.integer("DOSSIER_TIME_LIMIT_SECONDS", 600, minimum=10)
DOSSIER_MEMORY_LIMIT_MB = env.integer("DOSSIER_MEMORY_LIMIT_MB", 2048, minimum=256)

# --- Product rules ------------------------------------------------------------------------
# One warning per storefront and case within this many hours: the product never floods anyone.
WARNING_QUIET_HOURS = env.integer("WARNING_QUIET_HOURS", 72, minimum=1)
# Webhook endpoints and page captures may reach private, loopback and link-local
# addresses only when this is on: for tests and local development.
ALLOW_PRIVATE_URLS = env.boolean("ALLOW_PRIVATE_URLS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.integer("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)

# --- Evidence collection ----------------------------------------------------------------
# SP-API secrets are sealed in the database with these Fernet keys (the first seals;
# give several, comma-separated, to rotate).
if DEBUG:
    _derived = base64.urlsafe_b64encode(hashlib.sha256(f"credentials:{SECRET_KEY}".encode()).digest()).decode()
    CREDENTIALS_KEYS = env.strings("CREDENTIALS_KEY", [_derived])
else:
    env.required("CREDENTIALS_KEY", "production settings need the Fernet key that seals SP-API credentials")
    CREDENTIALS_KEYS = env.strings("CREDENTIALS_KEY", [])
for _key in CREDENTIALS_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEY must hold Fernet keys (32 url-safe base64 bytes), e.g. from "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None
# Stand-ins for Amazon in tests and local development; unset, Amazon's own hosts are used.
SPAPI_ENDPOINT = env.url("SPAPI_ENDPOINT", schemes={"http", "https"})
SPAPI_LWA_URL = env.url("SPAPI_LWA_URL", schemes={"http", "https"})
# The SQS queue Amazon delivers ANY_OFFER_CHANGED notifications to (credentials come from
# boto3's usual AWS_* variables); unset, notifications arrive only over HTTPS.
SPAPI_SQS_QUEUE_URL = env.url("SPAPI_SQS_QUEUE_URL", schemes={"http", "https"})
SPAPI_SQS_ENDPOINT_URL = env.url("SPAPI_SQS_ENDPOINT_URL", schemes={"http", "https"})
SPAPI_SQS_REGION = env.string("SPAPI_SQS_REGION") or "us-east-1"
WATCH_INTERVAL_MINUTES = env.integer("WATCH_INTERVAL_MINUTES", 60, minimum=5)
CHROMIUM_PATH = env.string("CHROMIUM_PATH") or "/usr/bin/chromium"
# Chromium's own sandbox around the pages it renders. It cannot run as root, nor where
# user namespaces are blocked (Docker's default seccomp profile): there, the container is
# the boundary and CHROMIUM_SANDBOX=false says so.
CHROMIUM_SANDBOX = env.boolean("CHROMIUM_SANDBOX", default=True)
CAPTURE_TIMEOUT_SECONDS = env.integer("CAPTURE_TIMEOUT_SECONDS", 45, minimum=5)
CAPTURE_MAX_BYTES = env.integer("CAPTURE_MAX_BYTES", 50 * 1024 * 1024, minimum=1024 * 1024)
# After a report is filed, its storefronts are checked again after these many days.
RECHECK_DAYS = [int(day) for day in env.strings("RECHECK_DAYS", ["1", "3", "7"]) if day.isdigit()]

CELERY_BEAT_SCHEDULE = {
    "webhook-sweep": {"task": "cases.tasks.webhook_sweep", "schedule": 60.0},
    "dossier-sweep": {"task": "cases.tasks.dossier_sweep", "schedule": 60.0},
    "idempotency-sweep": {"task": "cases.tasks.idempotency_sweep", "schedule": 3600.0},
    "watch-due": {"task": "cases.tasks.watch_due", "schedule": 60.0},
    "offer-notification-sweep": {"task": "cases.tasks.offer_notification_sweep", "schedule": 60.0},
    "capture-sweep": {"task": "cases.tasks.capture_sweep", "schedule": 60.0},
    "notifications-email-sweep": {"task": "cases.tasks.notifications_email_sweep", "schedule": 300.0},
    "renditions-sweep": {"task": "evidence.tasks.blob_renditions_sweep", "schedule": 300.0},
    "recheck-due": {"task": "cases.tasks.recheck_due", "schedule": 300.0},
    "offer-notification-prune": {"task": "cases.tasks.offer_notification_prune", "schedule": 3600.0},
}
if SPAPI_SQS_QUEUE_URL:
    CELERY_BEAT_SCHEDULE["sqs-consume"] = {"task": "cases.tasks.sqs_consume", "schedule": 20.0}

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cases.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cases.api.errors.handle",
    "DEFAULT_THROTTLE_RATES": {
        "api": env.rate("API_RATE", "1200/min"),
        # Amazon sends notifications in bursts; relays post them one by one.
        "notifications": env.rate("NOTIFICATIONS_RATE", "6000/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Wrong tokens a client may send per minute before it is refused with 429.
API_AUTH_FAILURES_PER_MINUTE = env.integer("API_AUTH_FAILURES_PER_MINUTE", 30, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "casemanager API",
    "DESCRIPTION": (
        "Cases, storefronts, sightings, evidence, test buys, warnings and reports to Amazon, "
        "for ticketing tools and scripts. Authenticate with `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.cases.CaseStatus",
        "CasePriorityEnum": "cases.models.cases.CasePriority",
        "WebhookEventEnum": "cases.models.webhooks.WebhookEvent",
        "EvidenceKindEnum": "cases.models.records.EvidenceKind",
        "IPRightKindEnum": "cases.models.brands.IPRightKind",
        "IPRightStatusEnum": "cases.models.brands.IPRightStatus",
        "WarningChannelEnum": "cases.models.records.WarningChannel",
        "SubmissionChannelEnum": "cases.models.records.SubmissionChannel",
        "SubmissionOutcomeEnum": "cases.models.records.SubmissionOutcome",
        "DeliveryStatusEnum": "cases.models.webhooks.DeliveryStatus",
        "PresenceStateEnum": "cases.models.cases.PresenceState",
        "TestBuyVerdictEnum": "cases.models.records.TestBuyVerdict",
        "LetterKindEnum": "cases.models.letters.LetterKind",
        "LetterLanguageEnum": "cases.models.letters.LetterLanguage",
        "CaptureKindEnum": "cases.models.captures.CaptureKind",
        "JobStatusEnum": "cases.models.captures.JobStatus",
        "SpApiRegionEnum": "cases.models.watch.SpApiRegion",
    },
}
