"""Settings, all overridable by environment variables (django-environ).

The embedded default needs no server: SQLite and kombu's filesystem transport. Set
``DATABASE_URL=postgres://...`` and ``CELERY_BROKER_URL=redis://...`` for the real stack.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret_key(path: Path) -> str:
    """A random key kept in ``path`` (outside production mode only), made on first use."""
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


env = environ.Env(
    DEBUG=(bool, False),
)

# Production mode (issue 12): DJANGO_SECURE=true turns on HSTS, the HTTPS redirect and Secure
# cookies, and makes SECRET_KEY and ALLOWED_HOSTS required (no defaults). `manage.py check
# --deploy` is clean in that mode (tests/security/test_deploy_settings.py).
PRODUCTION = env.bool("DJANGO_SECURE", default=False)
DEBUG = env("DEBUG")
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_SECURE=true と DEBUG=true は同時に指定できません。")
    SECRET_KEY = env.str("SECRET_KEY")  # ImproperlyConfigured when missing
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_SECURE=true では ALLOWED_HOSTS にホスト名を列挙してください（* は不可）。")
else:
    # Development, tests and the demo: no key is published with the code; a random one is made
    # once per checkout (var/secret_key) unless SECRET_KEY is given.
    SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key(VAR_DIR / "secret_key")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here: the network is closed
    "backoffice",
    "shop",
    "payments",
    "payments.konbini",
    "pickup",
    "fraud",
    "receipts",
    "webhooks",
    "staff",
    "axes",  # staff log-in lockout (django-axes): last, as its docs ask
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "backoffice.api.guards.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backoffice.api.errors.ApiExceptionMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "backoffice.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers instead of failing with "database is locked"
    # when the web server, the worker and beat write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 30})
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's PostgreSQL backend with a health check that costs no round trip while the
        # connection's socket is quiet (backoffice/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "backoffice.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A pooled connection PostgreSQL dropped (restart, failover, pg_terminate_backend) is checked
    # before a request reuses it and replaced, instead of failing that request (issue 19).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding plus a prepare threshold lets psycopg prepare the statements a
    # connection repeats, so PostgreSQL parses and plans them once (Django disables preparing by
    # default for transaction-pooling proxies: set DB_PREPARE_THRESHOLD= empty behind one).
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "server_side_binding": env.bool("DB_SERVER_SIDE_BINDING", default=True),
        "prepare_threshold": env.int("DB_PREPARE_THRESHOLD", default=5) if env.str("DB_PREPARE_THRESHOLD", "5") else None,
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # A cache that is gone fails fast (the pickup throttle then counts from the database) instead
    # of holding the request for the operating system's TCP timeouts.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 1, "socket_timeout": 1})

# bench/api.py's write floor (bench/floor.py, issue 16): mounted only when asked for, never in
# production mode.
BENCH_WRITE_FLOOR = env.bool("BENCH_WRITE_FLOOR", default=False)
if PRODUCTION and BENCH_WRITE_FLOOR:
    raise ImproperlyConfigured("DJANGO_SECURE=true と BENCH_WRITE_FLOOR=true は同時に指定できません。")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- staff log-in lockout (django-axes) ------------------------------------------------------
# /staff/login/ and /admin/login/ both authenticate through Django auth, so axes guards both.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Decision: 5 wrong passwords lock that user name, and (separately) that IP address, for 15
# minutes; a right password resets the user's count. Staff can unlock in the admin (アクセス試行).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command (create_partner prints the key last)

# --- transport security (on in production mode; each can be set on its own) -----------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's plain-HTTP probe
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
# TLS ends at the proxy, which says so in X-Forwarded-Proto (only trust it behind such a proxy).
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A stale console page gets a page that says what happened (issue 17), not Django's DEBUG hint.
CSRF_FAILURE_VIEW = "staff.views.errors.csrf_failure"

# --- hostile input (values in backoffice.limits; tests/security pins they agree) -------------
# = backoffice.limits.MAX_BODY_BYTES: Django refuses to read a larger body (RequestDataTooBig → 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
LOGIN_URL = "/staff/login/"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# A mail server that stops answering fails the send (retried later) instead of stalling the relay.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@konbini-backoffice.example.jp")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["backoffice.api.auth.PartnerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["backoffice.api.auth.IsPartner"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["backoffice.api.guards.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backoffice.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Konbini Back-Office partner API",
    "DESCRIPTION": "Partner REST API v1 (storefront, konbini chains, carriers, warehouse, sellers).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backoffice.api.schema.add_order_links",
    ],
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "data_folder_processed": str(BROKER_DIR / "processed"),
    }
elif CELERY_BROKER_URL.startswith(("amqp://", "pyamqp://", "amqps://")):
    # RabbitMQ (the recommended production broker, README "Running it for real"): a worker that dies
    # closes its connection and RabbitMQ requeues its unacknowledged (late-acked) messages at once,
    # so no visibility timeout applies. Publisher confirms: the outbox relay marks a row published
    # only once the broker has taken the message.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
else:
    # Redis: a late-acked message of a worker that died is redelivered after this long. The broker
    # never holds a countdown (the outbox's ``available_at`` does), so it only has to outlast the
    # longest task run (a refund's gateway call): 5 minutes, not the 6 hours it once was (issue 19).
    # CELERY_VISIBILITY_TIMEOUT_SECONDS is lowered by the worker-kill tests (redelivery within the test).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=300)}
# A worker started while its broker is down keeps trying (and its supervisor restarts it if it gives up).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Filled by each app's jobs module through backoffice.jobs.register(); see backoffice/celery.py.
CELERY_BEAT_SCHEDULE: dict = {}
# The message outbox relay (shop.jobs.send_pending_messages) runs this often: the longest a
# customer's e-mail waits after the transaction that created its message.
MESSAGE_RELAY_SECONDS = env.int("MESSAGE_RELAY_SECONDS", default=5)
# The task outbox relay (backoffice.outbox, job publish_outbox) runs this often: the longest a
# refund or a pickup notice waits after its transaction before it reaches the broker.
OUTBOX_RELAY_SECONDS = env.int("OUTBOX_RELAY_SECONDS", default=2)
# After this many failed sends a message stays unsent, its last error shown in the admin.
MESSAGE_MAX_SEND_ATTEMPTS = env.int("MESSAGE_MAX_SEND_ATTEMPTS", default=8)

# --- Product rules that are configuration (SPEC.md) ---------------------------------------
# SPEC §3, seed 003 (支払い期限を少し過ぎても間に合う場合もある): confirmations this long after
# the deadline are still accepted.
KONBINI_LATE_PAYMENT_GRACE = timedelta(minutes=env.int("KONBINI_LATE_PAYMENT_GRACE_MINUTES", default=60))
# Issue 14: a preliminary report (速報) still without its final report (確報) after this many
# business days (Japanese public holidays and weekends excluded) goes to finance's queue.
KONBINI_SETTLEMENT_DAYS = env.int("KONBINI_SETTLEMENT_DAYS", default=3)
# SPEC §4, seed 001 (1–2 hours after arrival): delay before the pickup-ready message.
PICKUP_NOTICE_DELAY = timedelta(minutes=env.int("PICKUP_NOTICE_DELAY_MINUTES", default=60))
# SPEC §4, seeds 000/001: "order" = last 7 digits of the order number; "random" = 7 random digits.
PICKUP_AUTH_NUMBER_SOURCE = env.str("PICKUP_AUTH_NUMBER_SOURCE", default="order")
# SPEC §3 (seed 003, bank-transfer refunds): 依頼人 of the Zengin 総合振込 file — the shop's own
# account the refunds are paid from (bank/branch must exist in the zengin-code list).
ZENGIN_REQUESTER = {
    "code": env.str("ZENGIN_REQUESTER_CODE", default="1234567890"),  # 委託者コード (10 digits, from the bank)
    "name": env.str("ZENGIN_REQUESTER_NAME", default="ｶ)ｺﾝﾋﾞﾆﾊﾞﾂｸｵﾌｲｽ"),
    "bank_code": env.str("ZENGIN_REQUESTER_BANK_CODE", default="0001"),
    "branch_code": env.str("ZENGIN_REQUESTER_BRANCH_CODE", default="001"),
    "account_type": env.str("ZENGIN_REQUESTER_ACCOUNT_TYPE", default="ordinary"),
    "account_number": env.str("ZENGIN_REQUESTER_ACCOUNT_NUMBER", default="1234567"),
}
# SPEC §5b, issue 15: a closed customer's books (orders, payments, refunds, ledgers) are kept this
# many years (Japanese tax law: 7 years, 法人税法の帳簿書類の保存期間); the personal data is erased.
BOOKS_RETENTION_YEARS = env.int("BOOKS_RETENTION_YEARS", default=7)
# How often the erasure job (shop.jobs.erase_closed_customers) blanks the personal data of closed customers.
ERASURE_JOB_SECONDS = env.int("ERASURE_JOB_SECONDS", default=60)
# API.md "Receipts and qualified invoices" (インボイス制度): the issuer a receipt names, and its
# registration number, "T" + 13 digits with a check digit — checked when Django starts
# (receipts.apps), so a mistyped number never reaches a customer's qualified invoice.
INVOICE_ISSUER_NAME = env.str("INVOICE_ISSUER_NAME", default="株式会社コンビニバックオフィス")
INVOICE_REGISTRATION_NUMBER = env.str("INVOICE_REGISTRATION_NUMBER", default="T9000000000000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Webhooks (issue 13): only https:// to public addresses unless this is set (tests, the demo).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
