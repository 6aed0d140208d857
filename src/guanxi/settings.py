"""Guanxi settings: one module, everything that varies comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
GUANXI_HOME = Path(os.environ.get("GUANXI_HOME", Path.cwd() / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEFAULT_SECRET_KEY = "guanxi-insecure-development-key-change-me"
SECRET_KEY = os.environ.get("GUANXI_SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = env_bool("GUANXI_DEBUG", False)
# GUANXI_ENV=production: HTTPS-only cookies, HSTS, SSL redirect, a real secret key (see "Security" below).
PRODUCTION = os.environ.get("GUANXI_ENV", "development").strip().lower() == "production"
ALLOWED_HOSTS = env_list("GUANXI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("GUANXI_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "guanxi.core",
    "guanxi.customers",
    "guanxi.imports",
    "guanxi.activities",
    "guanxi.sales",
    "guanxi.service",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.core.middleware.RequestContextMiddleware",
    "guanxi.core.db_errors.DatabaseUnavailableMiddleware",  # database outage → 503, not 500
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.core.navigation.navigation",
            ],
        },
    },
]

# SQLite in GUANXI_HOME unless DATABASE_URL points elsewhere (PostgreSQL for anything shared). Connections are kept
# (also SQLite's, per thread: reopening the file and re-running the PRAGMAs cost more than the query, bench).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{GUANXI_HOME / 'guanxi.sqlite3'}",
        conn_max_age=int(os.environ.get("GUANXI_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writing transaction takes the write lock up front, so concurrent writers
        # queue on the busy timeout instead of failing with "database is locked" mid-transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with C-parsed timestamps and a health check without a round trip (core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "guanxi.core.postgresql"
    # An unreachable server fails a request in seconds (503, core.db_errors) instead of hanging a web worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("GUANXI_DB_CONNECT_TIMEOUT", "5"))
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # core.cache: a Redis outage is a cache miss, not an error (the web app keeps serving).
    CACHES = {"default": {"BACKEND": "guanxi.core.cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. With REDIS_URL, Redis is the broker and workers may run anywhere. Without it, an embedded broker keeps one
# machine self-sufficient: kombu's SQLAlchemy transport on a SQLite file beside the database (no server to run; the
# transport takes SQLite's write lock per message, so web processes and the worker share it safely), and
# `guanxi serve` starts a worker next to gunicorn. GUANXI_BROKER_URL overrides both.
CELERY_BROKER_URL = (
    os.environ.get("GUANXI_BROKER_URL") or REDIS_URL or f"sqla+sqlite:///{GUANXI_HOME / 'celery-broker.sqlite3'}"
)
GUANXI_EMBEDDED_BROKER = CELERY_BROKER_URL.startswith(("sqla+", "sqlalchemy+"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # jobs keep their state in the database, not in a result backend
CELERY_TASK_ACKS_LATE = True  # a message is acknowledged after its task ran (tasks are idempotent)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long import jobs: a worker takes one at a time
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("GUANXI_QUEUE", "guanxi")  # another name keeps installations apart
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Fails jobs whose runner died and resends waiting ones (imports.services.import_jobs_sweep).
    "imports-sweep": {"task": "imports.sweep", "schedule": float(os.environ.get("GUANXI_IMPORT_SWEEP_SECONDS", "60"))},
    "activities-reminders": {"task": "activities.send_reminders", "schedule": 60.0},
    # Contract renewal reminders and expiry (sales.tasks), once a day at 07:00 Shanghai time; idempotent.
    "sales-contracts-daily": {"task": "sales.contracts_daily", "schedule": crontab(hour=7, minute=0)},
    # Hand-over expiry and SLA warnings/escalations (service.tasks.sweep); set-based and idempotent.
    "service-sweep": {"task": "service.sweep", "schedule": 60.0},
    # Return visits whose time came become due, visits of reopened tickets are cancelled (service.return_visits).
    "service-return-visits": {"task": "service.return_visits", "schedule": 60.0},
    # Text messages left queued and retries that came due (service.sms.deliver_queued); claims rows, idempotent.
    "service-sms-deliver": {"task": "service.sms_deliver", "schedule": 60.0},
    # Deadline rescheduling jobs a dead worker or a lost message left pending (service.reschedule.reschedules_resume).
    "service-sla-reschedule-resume": {"task": "service.sla_reschedule_resume", "schedule": 60.0},
    # Done rescheduling jobs older than GUANXI_RESCHEDULE_KEEP_DAYS deleted (service.reschedule.reschedules_purge).
    "service-sla-reschedule-purge": {"task": "service.sla_reschedule_purge", "schedule": crontab(hour=4, minute=10)},
    # The analysis rollups of the last three days recomputed from the tickets (service.tasks.analysis_rebuild).
    "service-analysis-rebuild": {"task": "service.analysis_rebuild", "schedule": crontab(hour=3, minute=30)},
}
if GUANXI_EMBEDDED_BROKER:
    # The SQLAlchemy transport has no fanout exchange: no remote control, and a longer SQLite busy timeout.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
else:
    # Sending a task to a broker that is down fails within seconds instead of retrying inside a web request; the
    # job waits in the database and is sent again (imports.services.import_jobs_reap). Workers reconnect on their own.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

# Imports: files up to these limits; at most this many rows are validated inside the request, larger files by a worker.
GUANXI_IMPORT_INLINE_ROWS = int(os.environ.get("GUANXI_IMPORT_INLINE_ROWS", "2000"))
GUANXI_IMPORT_MAX_ROWS = int(os.environ.get("GUANXI_IMPORT_MAX_ROWS", "500000"))
GUANXI_IMPORT_MAX_BYTES = int(os.environ.get("GUANXI_IMPORT_MAX_BYTES", str(100 * 1024 * 1024)))
GUANXI_IMPORT_MAX_ERRORS = int(os.environ.get("GUANXI_IMPORT_MAX_ERRORS", "10000"))  # stored per job
GUANXI_IMPORT_STALL_SECONDS = int(os.environ.get("GUANXI_IMPORT_STALL_SECONDS", "900"))
GUANXI_IMPORT_KEEP_DAYS = int(os.environ.get("GUANXI_IMPORT_KEEP_DAYS", "30"))
# A started job still waiting for a worker after this long is sent again (its message may be lost: broker outage).
GUANXI_IMPORT_REQUEUE_SECONDS = int(os.environ.get("GUANXI_IMPORT_REQUEUE_SECONDS", "120"))
# Uploads (core.uploads): a workbook's unpacked size is capped (zip bombs); stored files readable by Guanxi's user only.
GUANXI_UPLOAD_MAX_UNPACKED_BYTES = int(os.environ.get("GUANXI_UPLOAD_MAX_UNPACKED_BYTES", str(1024 * 1024 * 1024)))
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Service correspondence and email intake (docs/service.md "Correspondence and email intake").
GUANXI_SERVICE_MAIL_ADDRESS = os.environ.get("GUANXI_SERVICE_MAIL_ADDRESS", "service@localhost")  # To: and From:
GUANXI_SERVICE_MAIL_RECEIVER = os.environ.get("GUANXI_SERVICE_MAIL_RECEIVER", "")  # username: first-contact owner
GUANXI_SERVICE_MAIL_TICKET_TYPE = os.environ.get("GUANXI_SERVICE_MAIL_TICKET_TYPE", "consultation")
GUANXI_SERVICE_MAIL_MAX_BYTES = int(os.environ.get("GUANXI_SERVICE_MAIL_MAX_BYTES", str(25 * 1024 * 1024)))
# Text messages (return visits and survey invitations by SMS): a dotted backend path (service/sms_backends.py) —
# ConsoleBackend prints, LocmemBackend keeps an outbox (tests), HttpBackend POSTs JSON to GUANXI_SMS_URL.
GUANXI_SMS_BACKEND = os.environ.get("GUANXI_SMS_BACKEND", "guanxi.service.sms_backends.ConsoleBackend")
GUANXI_SMS_URL = os.environ.get("GUANXI_SMS_URL", "")
GUANXI_SMS_TOKEN = os.environ.get("GUANXI_SMS_TOKEN", "")
GUANXI_SMS_SIGN = os.environ.get("GUANXI_SMS_SIGN", "国网客服")  # 短信签名, registered with the gateway
GUANXI_SMS_TIMEOUT = float(os.environ.get("GUANXI_SMS_TIMEOUT", "5"))
# Delivery in the background (docs/service.md "Text messages"): message ids per Celery task, attempts at most, the
# first retry's wait (doubled per attempt, at most an hour), and after how long a claim of a dead worker is released.
GUANXI_SMS_BATCH = int(os.environ.get("GUANXI_SMS_BATCH", "500"))
GUANXI_SMS_MAX_ATTEMPTS = int(os.environ.get("GUANXI_SMS_MAX_ATTEMPTS", "5"))
GUANXI_SMS_RETRY_SECONDS = int(os.environ.get("GUANXI_SMS_RETRY_SECONDS", "60"))
GUANXI_SMS_CLAIM_SECONDS = int(os.environ.get("GUANXI_SMS_CLAIM_SECONDS", "600"))
# Replies: the gateway POSTs them to /api/v1/sms/inbound with `Authorization: Bearer <this>`; empty refuses them all.
GUANXI_SMS_INBOUND_TOKEN = os.environ.get("GUANXI_SMS_INBOUND_TOKEN", "")
# Wrong inbound tokens from one client IP before it gets 429 for GUANXI_LOGIN_WINDOW_SECONDS (core.throttle).
GUANXI_SMS_INBOUND_MAX_FAILURES = int(os.environ.get("GUANXI_SMS_INBOUND_MAX_FAILURES", "10"))
# A reply answers the latest message sent to its phone within this many days.
GUANXI_SMS_REPLY_DAYS = int(os.environ.get("GUANXI_SMS_REPLY_DAYS", "7"))
GUANXI_SERVICE_IMAP_URL = os.environ.get("GUANXI_SERVICE_IMAP_URL", "")  # imaps://user:password@host:993/INBOX
# Deadline rescheduling jobs (service/reschedule.py): done ones are listed in the admin this many days, then deleted.
GUANXI_RESCHEDULE_KEEP_DAYS = int(os.environ.get("GUANXI_RESCHEDULE_KEEP_DAYS", "30"))
# Runs of a rescheduling job that may raise before it is marked failed (the sweep stops retrying it; an admin can).
GUANXI_RESCHEDULE_MAX_ATTEMPTS = int(os.environ.get("GUANXI_RESCHEDULE_MAX_ATTEMPTS", "5"))
GUANXI_REPEAT_COMPLAINT_DAYS = int(os.environ.get("GUANXI_REPEAT_COMPLAINT_DAYS", "30"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id for new and changed passwords; older hashes still verify and are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if env_bool("GUANXI_FAST_PASSWORD_HASHER"):  # tests and benchmarks only (refused in production, below)
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "CNY"

STATIC_URL = "static/"
STATIC_ROOT = GUANXI_HOME / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = GUANXI_HOME / "media"
WHITENOISE_USE_FINDERS = True  # serve app and package assets without a collectstatic step

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- Security (docs/security.md) ------------------------------------------------------------------------------
# Sessions end after GUANXI_SESSION_SECONDS (default 12 h, a working day) and, unless turned off, when the browser
# closes.
SESSION_COOKIE_AGE = int(os.environ.get("GUANXI_SESSION_SECONDS", str(12 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("GUANXI_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles only from Guanxi itself (htmx and ECharts are served as
# static files; an inline <script> needs the request's nonce, {{ request.csp_nonce }}). Inline style="" attributes
# stay allowed (style-src-attr): templates size progress bars with them, and they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# HTTPS: on in production (GUANXI_HTTPS=1 turns it on elsewhere). Behind a TLS-terminating proxy set
# GUANXI_PROXY_SSL_HEADER=X-Forwarded-Proto (only if the proxy always sets or strips that header); GUANXI_SSL_REDIRECT=0
# when the proxy itself redirects http to https.
if PRODUCTION or env_bool("GUANXI_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("GUANXI_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("GUANXI_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("GUANXI_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("GUANXI_HSTS_PRELOAD", True)
    if os.environ.get("GUANXI_PROXY_SSL_HEADER"):
        _header = "HTTP_" + os.environ["GUANXI_PROXY_SSL_HEADER"].strip().upper().replace("-", "_")
        SECURE_PROXY_SSL_HEADER = (_header, "https")
if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "GUANXI_ENV=production needs GUANXI_SECRET_KEY: a random value of at least 50 characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if DEBUG:
        raise ImproperlyConfigured("GUANXI_DEBUG must be off when GUANXI_ENV=production.")
    if "MD5PasswordHasher" in PASSWORD_HASHERS[0]:
        raise ImproperlyConfigured("GUANXI_FAST_PASSWORD_HASHER is for tests only, not for GUANXI_ENV=production.")

# Login throttling (web login and POST /api/v1/auth/token, core.throttle): failed attempts counted per account and
# per client IP within a window; either limit reached refuses further attempts until the window passes.
GUANXI_LOGIN_MAX_FAILURES = int(os.environ.get("GUANXI_LOGIN_MAX_FAILURES", "5"))
GUANXI_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("GUANXI_LOGIN_MAX_FAILURES_PER_IP", "20"))
GUANXI_LOGIN_WINDOW_SECONDS = int(os.environ.get("GUANXI_LOGIN_WINDOW_SECONDS", "900"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANXI_LOG_LEVEL", "WARNING")},
}
