"""Django settings. Everything a deployment changes comes from the environment:

DAJIUZHU_HOME        home directory (default ./var): SQLite database, keys, Huey storage, lake
DATABASE_URL         e.g. postgres://user@127.0.0.1:5432/db (default: SQLite in the home)
REDIS_URL            use Redis for the Huey queue instead of SQLite storage
DAJIUZHU_DEBUG       1 to run with DEBUG (never in production)
DAJIUZHU_INSECURE_HTTP  1 to allow session cookies over plain HTTP (the loopback demo only)
DAJIUZHU_ALLOWED_HOSTS  comma-separated host names
DAJIUZHU_SMS_BACKEND dotted path of the SMS backend (console by default)
DAJIUZHU_AUDIT_CHECKPOINTS  file of the audit chain's signed checkpoints (default in the home)
DAJIUZHU_AUDIT_SYSLOG  also send each checkpoint to syslog (/dev/log or host:port)
DAJIUZHU_OTP_MAX_SENDS_PER_SESSION / _PER_IP  log-in code sends per client and hour (5 / 20)
DAJIUZHU_COMPLAINT_MAX_PER_SESSION / _PER_IP  complaints per client and hour (3 / 10)
DAJIUZHU_CLIENT_IP_HEADER  header holding the client address behind a trusted proxy
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from dajiuzhu.core.clock import LOCAL_TIME_ZONE
from dajiuzhu.home import ensure_home, load_key

HOME = ensure_home()
LAKE_DIR = Path(os.environ.get("DAJIUZHU_LAKE", HOME / "lake"))
BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or load_key("secret", HOME).hex()
DEBUG = os.environ.get("DAJIUZHU_DEBUG") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DAJIUZHU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "axes",
    "huey.contrib.djhuey",
    "dajiuzhu.core",
    "dajiuzhu.registry",
    "dajiuzhu.exchange",
    "dajiuzhu.policy",
    "dajiuzhu.verification",
    "dajiuzhu.warnings",
    "dajiuzhu.cases",
    "dajiuzhu.supervision",
    "dajiuzhu.care",
    "dajiuzhu.payments",
    "dajiuzhu.reviews",
    "dajiuzhu.web",
]
# Apps only the long-running servers use: ninja's (the API docs' templates and static files, for
# the web server) and djhuey's (its `run_huey` command, for the worker). A one-off command
# starts without them (``dajiuzhu.bootstrap.setup``): ninja and huey are then imported only by
# the code that uses them, not by every command's start-up (about 0.2 s of the 1.5 s a small
# `dajiuzhu scan` took). Neither has models or migrations.
SERVER_ONLY_APPS = ("ninja", "huey.contrib.djhuey")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dajiuzhu.core.middleware.IdNumberInUrlMiddleware",
    "dajiuzhu.core.middleware.AccessErrorsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dajiuzhu.urls"
WSGI_APPLICATION = "dajiuzhu.wsgi.application"

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
                "dajiuzhu.web.context.platform",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{HOME / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:workbench"

# Lockout after repeated failures (django-axes): five failures lock the username for 15 min.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_VERBOSE = False
# Lock by username only: offices reach the platform through one NAT address, and locking an
# address would lock out a whole service centre. (axes.W006 warns about exactly this choice.)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = LOCAL_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(HOME / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Security: cookies, headers, CSP. Plain HTTP is allowed only for the loopback demo.
INSECURE_HTTP = os.environ.get("DAJIUZHU_INSECURE_HTTP") == "1"
SESSION_COOKIE_SECURE = not INSECURE_HTTP
CSRF_COOKIE_SECURE = not INSECURE_HTTP
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not INSECURE_HTTP and not DEBUG:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Background jobs: Huey with SQLite storage in the home, Redis when REDIS_URL is set.
# SIGTERM (systemd, docker stop) lets running tasks finish; SIGINT stops at once. A worker
# that dies anyway (SIGKILL, OOM) leaves its batch to exchange/recovery.py.
HUEY_CONSUMER = {"graceful_signal": "TERM"}
if os.environ.get("REDIS_URL"):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "dajiuzhu",
        "url": os.environ["REDIS_URL"],
        "immediate": False,
        "consumer": HUEY_CONSUMER,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "dajiuzhu",
        "filename": str(HOME / "huey" / "huey.db"),
        "immediate": False,
        "consumer": HUEY_CONSUMER,
    }

SMS_BACKEND = os.environ.get("DAJIUZHU_SMS_BACKEND", "dajiuzhu.core.sms.ConsoleSmsBackend")
OTP_TTL_SECONDS = 300
OTP_MAX_ATTEMPTS = 5
OTP_MAX_SENDS_PER_HOUR = 5  # per phone
# Per client as well, so that one client cannot have codes sent to many phones: per browser
# session and per client address, in the last hour.
OTP_MAX_SENDS_PER_SESSION = int(os.environ.get("DAJIUZHU_OTP_MAX_SENDS_PER_SESSION", "5"))
OTP_MAX_SENDS_PER_IP = int(os.environ.get("DAJIUZHU_OTP_MAX_SENDS_PER_IP", "20"))
# The request header a trusted reverse proxy puts the client's address in (e.g. X-Real-IP or
# X-Forwarded-For, whose last entry is used); empty: the connection's address (REMOTE_ADDR).
CLIENT_IP_HEADER = os.environ.get("DAJIUZHU_CLIENT_IP_HEADER", "")
# Complaints and reports (投诉举报): submissions per reporter or browser session, and per client
# address, in the last hour (the public form needs no captcha; it is throttled).
COMPLAINT_MAX_PER_SESSION = int(os.environ.get("DAJIUZHU_COMPLAINT_MAX_PER_SESSION", "3"))
COMPLAINT_MAX_PER_IP = int(os.environ.get("DAJIUZHU_COMPLAINT_MAX_PER_IP", "10"))

NINJA_PAGINATION_PER_PAGE = 50

# Working days a town has to investigate a warning before it is overdue and escalates.
WARNING_DEADLINE_DAYS = int(os.environ.get("DAJIUZHU_WARNING_DEADLINE_DAYS", "10"))
# Seconds the worker waits after a wages or 户籍 batch before rewriting the lake summaries, so
# that a burst of pushes costs one rewrite (0: at once).
SUMMARY_REFRESH_DELAY = int(os.environ.get("DAJIUZHU_SUMMARY_REFRESH_DELAY", "60"))
# Seconds one server-sent event stream of the care console stays open before the browser
# reconnects (with Last-Event-ID); see docs/care.md.
CARE_STREAM_SECONDS = int(os.environ.get("DAJIUZHU_CARE_STREAM_SECONDS", "25"))
# How often an open console stream looks for new alarms (two small indexed queries a time).
CARE_STREAM_POLL_SECONDS = float(os.environ.get("DAJIUZHU_CARE_STREAM_POLL_SECONDS", "0.25"))

# The audit chain's checkpoints (signed heads) outside the database; see core/audit.py.
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("DAJIUZHU_AUDIT_CHECKPOINTS", HOME / "audit" / "checkpoints.jsonl")
)
AUDIT_CHECKPOINT_EVERY = 100  # events between the audit path's checkpoints
AUDIT_SYSLOG = os.environ.get("DAJIUZHU_AUDIT_SYSLOG", "")  # /dev/log or host:port (optional)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DAJIUZHU_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every layout step at INFO and every unsupported CSS property.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        # Huey's consumer gives the "huey" logger a handler of its own unless it has one; the
        # root handler then printed every line a second time. One handler, no propagation.
        "huey": {"handlers": ["console"], "propagate": False},
    },
}
CSRF_FAILURE_VIEW = "dajiuzhu.web.views.csrf_failure"
