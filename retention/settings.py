"""Settings for Retention Desk, read from the environment.

Development needs no configuration at all: SQLite in ``var/``, a file-system Celery broker and
a throw-away secret key. Production (``DEBUG`` off) refuses to start without a real
``SECRET_KEY``. Every variable is listed in README.md ("Production").
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Under pytest the suite itself is the environment: development defaults, no real secrets.
TESTING = env_bool("TESTING", "pytest" in sys.modules)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set DEBUG=true for development, or a long random SECRET_KEY "
            "for production: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "retention.admin_site.DeskAdminConfig",  # django.contrib.admin, on the desk's own site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "django_celery_beat",
    "axes",
    "retention",
    "offers",
    "subscribers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a login unless it is marked open; the open ones are listed in urls.py.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "retention.core.middleware.UserTimezoneMiddleware",
    # A service's refusal that escapes a view is a 403 (retention.core.error_pages), not a 500.
    "retention.core.middleware.RefusalMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "retention.urls"
WSGI_APPLICATION = "retention.wsgi.application"
AUTH_USER_MODEL = "retention.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "retention.core.context_processors.desk",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (production, CI); without it a WAL-mode SQLite file serves the
# web process, the worker and beat together during development.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'desk.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        # Writers take the lock at BEGIN, so concurrent processes queue instead of failing.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Cache, sessions, broker ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Keys name the database they were computed from: one Redis may serve several
            # desks, a test run and the bench at once without one reading another's figures.
            "KEY_PREFIX": f"desk:{Path(str(DATABASES['default']['NAME'])).name}",
            # A cache that is down must cost a page a second at most (retention.caching).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 12 * 3600))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: one folder that web, worker and beat share; no server to run.
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A web request must never hang on a broker that is down: fail fast, the row stays pending.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
        # The one retry comes at once: kombu would otherwise sleep 2 s before it, and a
        # request publishing after commit would wait those on a broker that is down.
        "interval_start": 0,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", 10))
# Installed into django-celery-beat's tables on start, where admins can change them.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "retention.tasks.heartbeat", "schedule": float(HEARTBEAT_SECONDS)},
    # No case stays open past its process-by date; every 5 minutes keeps the lag small.
    "process-overdue-cases": {"task": "retention.tasks.process_overdue_cases", "schedule": 300.0},
    # Offers waiting too long escalate; offers not presented or answered in time expire.
    "offers-tick": {"task": "retention.tasks.offers_tick", "schedule": 300.0},
    # Paused services resume on their resume date: billing is told, the price goes back.
    "pauses-tick": {"task": "retention.tasks.pauses_tick", "schedule": 900.0},
    # Reminders are rows with a due time; this tick delivers the due ones (no countdowns).
    "reminders-tick": {"task": "retention.tasks.reminders_tick", "schedule": 60.0},
    # Outreach: send what is due, and put back what a dead worker left half-sent.
    "outreach-tick": {"task": "retention.tasks.outreach_tick", "schedule": 60.0},
    # Messages written from a case: ask again for those a dead worker or a lost message left.
    "case-messages-tick": {"task": "retention.tasks.case_messages_tick", "schedule": 60.0},
    # Billing events: deliver what is due (retries fall due here), new events included.
    "billing-tick": {
        "task": "retention.tasks.billing_tick",
        "schedule": float(os.environ.get("BILLING_TICK_SECONDS", 30)),
    },
    # The dashboard's figures for today (and yesterday once after midnight), from the cases.
    "figures-tick": {"task": "retention.tasks.figures_tick", "schedule": 300.0},
    # Nightly: discount-ending reviews, new subscribers for standing campaigns, the loyalty
    # count.
    "nightly-loyalty": {
        "task": "retention.tasks.nightly_loyalty",
        "schedule": crontab(hour=2, minute=30),
    },
    # Nightly, after the loyalty run: every subscriber's tariff fit from their usage, then what
    # follows from it (the dashboard's snapshot, the annual best-tariff notices due today).
    "nightly-tariff-fit": {
        "task": "retention.tasks.nightly_tariff_fit",
        "schedule": crontab(hour=3, minute=15),
    },
    # Nightly, after the tariff fit it reads: every active subscriber's churn score from their
    # story, then the open cases' priorities, which read it.
    "nightly-churn-risk": {
        "task": "retention.tasks.nightly_churn_risk",
        "schedule": crontab(hour=4, minute=0),
    },
    # Subscribers an import or the API created are scored on arrival (a message asks at once);
    # this catches those whose message was lost.
    "risk-score-arrivals": {"task": "retention.tasks.risk_score_arrivals", "schedule": 300.0},
    # Hardship arrangements: payments counted towards instalments (a message asks at once when
    # billing reports one; this catches lost ones), missed instalments break the arrangement.
    "hardship-tick": {"task": "retention.tasks.hardship_tick", "schedule": 300.0},
    "reprioritise-open-cases": {
        "task": "retention.tasks.reprioritise_open_cases",
        "schedule": 3600.0,
    },
}

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0)) or None

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("lv", _("Latvian")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["retention.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Riga"  # the default for staff and subscribers; each user may set their own

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
# Content Security Policy: scripts only from us or carrying this response's nonce; no inline
# styles, no eval. htmx is configured in base.html to keep to it: allowEval off, no injected
# indicator styles, and no style attribute carried over when it settles a swap
# (tests/browser/test_csp.py walks the desk and fails on any violation).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not TESTING)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not TESTING)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not TESTING)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health checks from the load balancer come over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# --- SMS ------------------------------------------------------------------------------------
# file: one JSON file per message in var/sms (development, tests); console; http: a provider's
# JSON API (SMS_HTTP_URL, SMS_HTTP_TOKEN). See retention/messaging.py.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "file")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
# Seconds an SMS request may take (connecting: at most 5) before it is retried later.
SMS_HTTP_TIMEOUT = float(os.environ.get("SMS_HTTP_TIMEOUT", 10))

# --- Sending at provider speed (retention/core/delivery.py) --------------------------------
# Messages a second each provider takes, shared by every worker (a token bucket in Redis);
# 0: no limit of ours (the provider's 429 still holds everyone back).
SEND_RATES = {
    "email": float(os.environ.get("SEND_RATE_EMAIL", 0)),
    "sms": float(os.environ.get("SEND_RATE_SMS", 0)),
}
# Messages a worker has in flight at once (lanes: SMTP connections, SMS requests).
# 32: with a provider 50 ms away, a worker sends about 500 a second.
SEND_CONCURRENCY = int(os.environ.get("SEND_CONCURRENCY", 32))
# The longest a lane waits for its slot in the rate limit; beyond it the message is deferred.
SEND_LONGEST_WAIT = float(os.environ.get("SEND_LONGEST_WAIT", 10))
# A message the provider asked to retry waits SEND_RETRY_BASE * 2^(attempts - 1) seconds (or
# its Retry-After, if longer), at most an hour; after SEND_MAX_ATTEMPTS tries it fails.
SEND_RETRY_BASE = float(os.environ.get("SEND_RETRY_BASE", 30))
SEND_MAX_ATTEMPTS = int(os.environ.get("SEND_MAX_ATTEMPTS", 6))

# --- E-mail ---------------------------------------------------------------------------------
# Django 6.1 mailers. Development writes messages to files in var/mail; production speaks SMTP.
EMAIL_BACKEND_NAME = os.environ.get("EMAIL_BACKEND", "file" if DEBUG or TESTING else "smtp")
if EMAIL_BACKEND_NAME == "file":
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
elif EMAIL_BACKEND_NAME == "console":
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
elif EMAIL_BACKEND_NAME == "smtp":
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT", 25)),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 10,
            },
        }
    }
else:
    raise ImproperlyConfigured("EMAIL_BACKEND must be file, console or smtp")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "retention-desk@localhost")

# --- Logging --------------------------------------------------------------------------------
# One handler, on the root logger. Django's own "django" logger comes with a console handler
# of its own (under DEBUG) and propagates to the root as well, which printed every traceback
# twice: it is given no handlers here. A refusal (a 4xx) is logged as one line, not as the
# traceback of the PermissionDenied or Http404 that carried it (retention.core.error_pages).
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusals": {"()": "retention.core.error_pages.RefusalLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"filters": ["refusals"]},
        "axes": {"level": "WARNING"},
        # One line per request at INFO: thousands a second while a campaign sends.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Product defaults -----------------------------------------------------------------------
TIMELINE_PAGE_SIZE = 50
SEARCH_RESULT_LIMIT = 20
API_BATCH_LIMIT = int(os.environ.get("API_BATCH_LIMIT", 1000))

if TESTING:
    # Hashing demo passwords at full strength would dominate the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests travel in time (time-machine); a login must not expire on the way.
    SESSION_COOKIE_AGE = 10 * 365 * 24 * 3600

# --- The desk -------------------------------------------------------------------------------
# First contact with a cancelling subscriber is due within this many working hours.
FIRST_CONTACT_SLA_HOURS = int(os.environ.get("FIRST_CONTACT_SLA_HOURS", 4))
# Working hours of the desk, in TIME_ZONE, Monday=0 … Sunday=6.
WORKING_HOURS = (
    int(os.environ.get("WORKING_HOURS_START", 8)),
    int(os.environ.get("WORKING_HOURS_END", 18)),
)
WORKING_DAYS = tuple(int(d) for d in env_list("WORKING_DAYS", "0,1,2,3,4"))
# WORKING_HOURS and WORKING_DAYS are the desk hours the calendar starts with; from then on the
# admin keeps them (Desk hours), with the public holidays of this country (the holidays
# package's code) and the days that differ (Calendar days).
HOLIDAYS_COUNTRY = os.environ.get("HOLIDAYS_COUNTRY", "LV")
# When the countdown badges turn amber and red. First contact: amber this many minutes before it
# falls due (when its owner is reminded), red once overdue. Process-by (the deadline sweep
# processes a case on its process-by day, so the clock counts to that day's start): amber
# within PROCESS_BY_AMBER_HOURS, red within PROCESS_BY_RED_HOURS.
FIRST_CONTACT_AMBER_MINUTES = int(
    os.environ.get("FIRST_CONTACT_AMBER_MINUTES", os.environ.get("SLA_WARNING_MINUTES", 60))
)
PROCESS_BY_AMBER_HOURS = int(os.environ.get("PROCESS_BY_AMBER_HOURS", 72))
PROCESS_BY_RED_HOURS = int(os.environ.get("PROCESS_BY_RED_HOURS", 24))
# No cancellation waits longer than this for the desk: a subscriber who wants to leave can leave.
MAX_PROCESS_DAYS = int(os.environ.get("MAX_PROCESS_DAYS", 14))
# Equipment can be returned this long after the effective date before any fee.
EQUIPMENT_RETURN_DAYS = int(os.environ.get("EQUIPMENT_RETURN_DAYS", 30))
QUEUE_PAGE_SIZE = 50

# --- Reminders and outreach -----------------------------------------------------------------
# The owner hears this long before a first contact falls due; approvers when an offer has
# waited this long.
SLA_WARNING_MINUTES = int(os.environ.get("SLA_WARNING_MINUTES", 60))
APPROVAL_REMINDER_MINUTES = int(os.environ.get("APPROVAL_REMINDER_MINUTES", 60))
# Where links in e-mail point (staff notifications, the subscriber's offer link).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# An experiment's arm is compared with the holdout only once each has this many closed cases.
EXPERIMENT_MIN_CLOSED = int(os.environ.get("EXPERIMENT_MIN_CLOSED", 30))
# Messages one sending task claims at a time.
OUTREACH_CHUNK = int(os.environ.get("OUTREACH_CHUNK", 200))
# A claimed outbox row (outreach message, subscriber reminder, staff e-mail) not marked sent
# within this long was left by a dead worker: the sweep hands it out again. It must be longer
# than any send takes; tests/retention/test_exactly_once.py shortens it for its workers.
OUTBOX_CLAIM_TIMEOUT_SECONDS = int(os.environ.get("OUTBOX_CLAIM_TIMEOUT_SECONDS", 600))

# --- Billing events (retention/billing) -----------------------------------------------------
# A webhook that is not answered within these many seconds counts as failed, and is retried.
BILLING_CONNECT_TIMEOUT = float(os.environ.get("BILLING_CONNECT_TIMEOUT", 5))
BILLING_READ_TIMEOUT = float(os.environ.get("BILLING_READ_TIMEOUT", 10))
# Retries wait twice as long each time from the first wait up to the longest (each with up to
# half of it taken off at random, so that a receiver coming back is not hit by every sender at
# once), for BILLING_RETRY_HOURS after the first attempt; then the delivery has failed and
# admins are told. 30 s doubling to 6 h makes about 20 tries in three days.
BILLING_RETRY_FIRST_SECONDS = float(os.environ.get("BILLING_RETRY_FIRST_SECONDS", 30))
BILLING_RETRY_LONGEST_SECONDS = float(os.environ.get("BILLING_RETRY_LONGEST_SECONDS", 6 * 3600))
BILLING_RETRY_HOURS = float(os.environ.get("BILLING_RETRY_HOURS", 72))
# An endpoint none of whose deliveries has succeeded for this long is disabled (admins are told);
# its events wait until an admin enables it again.
BILLING_DISABLE_AFTER_HOURS = float(os.environ.get("BILLING_DISABLE_AFTER_HOURS", 120))
# An accepted offer billing has not confirmed within this long reminds the agent.
BILLING_CONFIRM_HOURS = float(os.environ.get("BILLING_CONFIRM_HOURS", 24))
# Billing refused an accepted offer: its case reopens, and the agent has this many days from
# then to agree new terms before the deadline sweep processes the cancellation first asked for.
BILLING_REFUSED_DAYS = int(os.environ.get("BILLING_REFUSED_DAYS", 7))
# Deliveries one worker claims at a time, and how long a claim holds before another worker may
# send the delivery again (longer than the timeouts above).
BILLING_CHUNK = int(os.environ.get("BILLING_CHUNK", 50))
BILLING_LEASE_SECONDS = int(os.environ.get("BILLING_LEASE_SECONDS", 120))

# --- Offers ---------------------------------------------------------------------------------
# An offer waiting for approval this long escalates to the next authority tier.
OFFER_ESCALATE_AFTER_HOURS = int(os.environ.get("OFFER_ESCALATE_AFTER_HOURS", 4))
# Nobody decided a pending offer in this many days: it expires. An approved offer must be
# presented, and a presented one answered, within these; never past the case's process-by date.
OFFER_APPROVAL_DAYS = int(os.environ.get("OFFER_APPROVAL_DAYS", 3))
OFFER_PRESENT_DAYS = int(os.environ.get("OFFER_PRESENT_DAYS", 3))
OFFER_ANSWER_DAYS = int(os.environ.get("OFFER_ANSWER_DAYS", 7))
# A pause of the service runs for this many months at least and at most (one per 12 months).
PAUSE_MIN_MONTHS = int(os.environ.get("PAUSE_MIN_MONTHS", 1))
PAUSE_MAX_MONTHS = int(os.environ.get("PAUSE_MAX_MONTHS", 3))

# --- Hardship arrangements ------------------------------------------------------------------
# An instalment not fully paid this many days after it was due breaks the arrangement; billing
# holds late fees and suspension until the last instalment's due date plus these days.
HARDSHIP_GRACE_DAYS = int(os.environ.get("HARDSHIP_GRACE_DAYS", 5))
# django-filter: an unset filter reads "Any", not a row of dashes.
FILTERS_EMPTY_CHOICE_LABEL = _("Any")
