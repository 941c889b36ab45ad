"""Settings for OTB Billing.

Everything that differs between installations comes from the environment, or from the
instance's env file (``OTB_ENV_FILE``, default ``.env`` in the project root). ``.env.example``
documents every key. Business settings (name, tax, SMTP, ...) live in the database instead and
are edited at /settings; nothing secret is kept in this file.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from .files import private_files

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = Path(os.environ.get("OTB_ENV_FILE", BASE_DIR / ".env"))
if ENV_FILE.is_file():
    # Values already in the environment win over the file.
    env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set. Put a long random value in {ENV_FILE} "
            "(see .env.example), or set DEBUG=true for a development instance."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "settings_app",
    "billing",
    "ledger",
    "api",
    "maintenance",
    "outbox",
    "reports",
    "rates",
    "quotes",
    "links",
    "recurring",
    "portal",
    "exports",
    "imports",
    # Last: its post_migrate hook gives the roles the permissions of the apps above.
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor too.
    "django_otp.middleware.OTPMiddleware",
    # Who and from where, for the audit records of the request's writes.
    "audit.origin.AuditOriginMiddleware",
    # Times shown in the business's time zone (SPEC: Access); the API keeps UTC.
    "settings_app.zone.BusinessTimeZoneMiddleware",
    # Every page but the login page needs a logged-in user (SPEC: Access).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # ... and, for a user with a second factor (or an administrator who must have one),
    # that second factor before any page but the ones that ask for it.
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer (below), and no-store on private ones.
    "csp.middleware.CSPMiddleware",
    "otb.middleware.PrivateCacheMiddleware",
]

ROOT_URLCONF = "otb.urls"
WSGI_APPLICATION = "otb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            # Filters every app's pages share, in the project package (which is no app).
            "libraries": {"display": "otb.display"},
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# SQLite under var/ is the embedded default; DATABASE_URL=mysql://user:pass@host:3306/name
# switches to MariaDB.
VAR_DIR = Path(env.str("OTB_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'otb.sqlite3'}")}
_db = DATABASES["default"]
# On a Galera cluster: 1 makes every read wait until this node has applied what the
# cluster committed before it, so a page always shows a write just made through another
# app server and node (README: Scaling out). Unset: the server's own setting.
_sync_wait = env.int("DB_WSREP_SYNC_WAIT", default=None)
_wsrep_sync_wait = "" if _sync_wait is None else f", SESSION wsrep_sync_wait={_sync_wait:d}"
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].update(
        {
            "charset": "utf8mb4",
            # Strict mode: a value that does not fit is an error, never silently truncated.
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO'" + _wsrep_sync_wait,
            "isolation_level": "read committed",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh clone has no var/ yet; SQLite cannot create the folder of its file. The file
    # holds password hashes, sessions and secrets: it, its -wal and -shm (SQLite gives them
    # the database file's mode) and its folder are the app user's only (SECURITY.md).
    private_files(Path(_db["NAME"]))
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].update(
        {
            # IMMEDIATE: a transaction takes the write lock when it begins, so concurrent
            # writers queue (up to "timeout" seconds) instead of failing with "database is
            # locked" when they upgrade a read lock half-way through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Backups (manage.py backup): where archives go, and how many the daily run keeps (0: all).
OTB_BACKUP_DIR = Path(env.str("OTB_BACKUP_DIR", default=str(VAR_DIR / "backups")))
OTB_BACKUP_KEEP = env.int("OTB_BACKUP_KEEP", default=0)

# E-mail goes out through the business's own SMTP server, set in the settings page; this is
# how long (seconds) a connection or an answer may take before the attempt counts as failed
# and is tried again later (outbox/).
OTB_SMTP_TIMEOUT = env.float("OTB_SMTP_TIMEOUT", default=20)
# A CA certificate file (PEM) to trust for the SMTP server's certificate, for a server with a
# private CA; empty: the system's CA certificates.
OTB_SMTP_CA_FILE = env.str("OTB_SMTP_CA_FILE", default="")
# Where `manage.py import_rates` (and its optional daily timer) reads the ECB's euro reference
# rates when given no file: an address or a path. Issuing never needs it.
OTB_RATES_URL = env.str(
    "OTB_RATES_URL", default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
)

# The address of this site as clients reach it ("https://billing.example.com"): the start of
# the links e-mails carry (a quote's link). Empty: the address of the request that sends it.
OTB_BASE_URL = env.str("OTB_BASE_URL", default="")

# The most invoices ``run_recurring`` makes for one schedule in one run: after downtime it
# catches up the missed dates a number at a time, with a warning (SPEC: Recurring invoices).
OTB_RECURRING_CATCH_UP = env.int("OTB_RECURRING_CATCH_UP", default=12)

# How often a write operation is tried again after a deadlock (MariaDB 1213, Galera
# certification failure) before the error reaches the user (SPEC: Scale).
OTB_WRITE_ATTEMPTS = env.int("OTB_WRITE_ATTEMPTS", default=20)

# An operation that writes without an audit record (a bug) is refused when true (the tests)
# and logged as an error when false (SPEC: Audit; audit/recording.py).
OTB_AUDIT_STRICT = env.bool("OTB_AUDIT_STRICT", default=False)

# Secrets at rest (otb/secrets.py): Fernet keys, the first encrypting; empty: one derived
# from SECRET_KEY.
OTB_ENCRYPTION_KEYS = env.list("OTB_ENCRYPTION_KEYS", default=[])

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A password reset link works once (it is signed with the password it replaces), for this
# many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

# Throttled sign-in (accounts/throttle.py): after this many failures of an account or a
# reset address (of an address: the second, since an office shares one), each further one
# locks it for twice as long as the last, from the first pause up to the longest (seconds).
OTB_SIGNIN_FREE_FAILURES = env.int("OTB_SIGNIN_FREE_FAILURES", default=5)
OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS = env.int("OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS", default=20)
OTB_SIGNIN_FIRST_PAUSE = env.int("OTB_SIGNIN_FIRST_PAUSE", default=60)
OTB_SIGNIN_MAX_PAUSE = env.int("OTB_SIGNIN_MAX_PAUSE", default=3600)
# The proxies in front of gunicorn (nginx on this machine): from them, the client's address
# is the last one of X-Forwarded-For they did not add (otb/addresses.py).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])

# A second factor (TOTP app, with one-time backup codes): anyone may turn it on at
# /account/second-factor/; with this setting, administrators must (the installer sets it).
REQUIRE_SECOND_FACTOR_FOR_ADMINS = env.bool("REQUIRE_SECOND_FACTOR_FOR_ADMINS", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="OTB Billing")

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-us")
LANGUAGES = [("en", "English")]
# One way to write dates and times per language (otb/formats/en/formats.py).
FORMAT_MODULE_PATH = ["otb.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Stored times are UTC; the business's own time zone (a database setting) decides "today".
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (the logo) are the app user's only, like the database and the backups.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- REST API (api/) ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its "Token" challenge makes a request without credentials a 401.
        "api.authentication.ApiTokenAuthentication",
        # For the browsable docs at /api/docs/, used from a logged-in browser.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON within DATA_UPLOAD_MAX_MEMORY_SIZE (DRF's own parser reads any size).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATE_FORMAT": "iso-8601",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OTB Billing API",
    "DESCRIPTION": (
        "Clients, services, quotes, invoices, recurring invoices, payments, ledgers and "
        "settings. Authenticate with `Authorization: Token <key>` (manage.py "
        'create_api_token). Money values are strings with two decimals ("1190.00"); dates '
        "are ISO 8601.\n\n"
        "Currencies: each document, payment and ledger entry has its `currency` (a client's "
        "is the default of its new documents). The business's base currency is the settings' "
        "`default_currency`. Issuing a document in another one freezes its `exchange_rate` "
        "(base currency per unit, 10 decimals; `/exchange-rates/` holds the stored ones) with "
        "its `rate_date` and `rate_source`, and stores its figures in the base currency "
        "(`*_in_base`); a payment keeps the rate of its date, its `amount_in_base`, what it "
        "`settled_in_base` of its invoice and its realised `exchange_difference`. Reports in "
        "the base currency add these stored figures; nothing is converted again.\n\n"
        "Quotes (`/quotes/`): a draft has no number; marked sent it takes the next `Q-0001` "
        "of its own series, its `issue_date` and `valid_until`. Its `state` is its `status`, "
        "or `expired` (sent, unanswered, `valid_until` before today in the business's time "
        "zone), which is never stored. A sent quote may change until it is accepted or "
        "declined (each change recorded); an accepted quote never changes. Staff record the "
        "client's `answer` on its behalf (phone, e-mail, in person); `convert` makes one "
        "draft invoice (201), and the same invoice again after (200).\n\n"
        "Recurring invoices (`/recurring-invoices/`): a schedule bills its client the same "
        "template lines every N weeks, months, quarters or years from its `start_date` (the "
        "start itself is billed); a daily run makes each due invoice once, issued or left as "
        "a draft. Its `next_dates` are what the next runs will do; its `occurrences`, what "
        "they did. Start, interval, day rule, client and currency are fixed once it has "
        "recorded an occurrence; `pause`, `resume` and `end` change its state."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the vendored files of drf-spectacular-sidecar: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Clients, invoices and settings share one list of currencies: one enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "billing.money.CURRENCY_CHOICES",
        "CreditKindEnum": "billing.models.CreditKind",
        # Invoices and quotes share their kinds of discount: one enum as read (with the
        # labels of billing.models.DiscountKind), one as written (the plain values).
        "DiscountKindEnum": "billing.models.DiscountKind",
        "DiscountKindInputEnum": "api.serializers.DISCOUNT_KINDS",
        # A quote's state and a recurring schedule's are both named "state".
        "ScheduleStateEnum": "recurring.models.ScheduleState",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security ---------------------------------------------------------------------------
# HTTPS=true once the instance is served over TLS (the nginx example terminates it).
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# HSTS asks browsers to use HTTPS only: for this host always (HTTPS=true), for its
# subdomains and on the browsers' preload list only when these say so: both are hard to
# take back (SECURITY.md).
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = HTTPS and env.bool("SECURE_HSTS_PRELOAD", default=False)
# Django's deployment checks ask for both; here they are the administrator's choice.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): the app's own scripts, styles, fonts and images (and
# data: images: Bootstrap's icons, the second factor's QR code); no inline script or style,
# no other host, no framing, forms only to this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A document link's token never reaches a log (otb/link_tokens.py).
    "filters": {"mask_link_tokens": {"()": "otb.link_tokens.MaskLinkTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_link_tokens"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The loggers that name a request's path: masked for every handler (a test's too).
        **{
            name: {"filters": ["mask_link_tokens"]}
            for name in ("django.request", "django.security.csrf", "django.server")
        },
    },
}
