"""Django settings, read from the environment (see README, "Configuration").

POLLWATCH_DATA_DIR       where the SQLite database, the secret key and uploads live (./var)
POLLWATCH_DATABASE_URL   database URL (default: SQLite file in the data dir)
POLLWATCH_DEBUG          "1" turns Django's debug mode on (only `pollwatch demo` does)
POLLWATCH_ALLOWED_HOSTS  comma-separated host names (127.0.0.1,localhost)
POLLWATCH_SECRET_KEY     overrides the key kept in the data dir
POLLWATCH_INSECURE_COOKIES  "1" allows session cookies over plain HTTP
POLLWATCH_LOGIN_*        login lockout and throttle figures (below)
POLLWATCH_SIGNIN_LINK_DAYS  days an observer's one-time sign-in link stays valid (7)
POLLWATCH_LOG_HOST, POLLWATCH_LOG_WITNESSES   the transparency log (pollwatch/ledger/keys.py,
                         pollwatch/ledger/witnessing.py)
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("POLLWATCH_DATA_DIR", "var")).resolve()


def _secret_key() -> str:
    """The secret key: from the environment, else generated once and kept in the data dir.

    It is never committed: a fresh installation gets its own on first run.
    """
    if key := os.environ.get("POLLWATCH_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("POLLWATCH_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("POLLWATCH_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "pollwatch.accounts",
    "pollwatch.web",
    "pollwatch.demo",
    "pollwatch.registry",
    "pollwatch.analysis",
    "pollwatch.ledger",
    "pollwatch.findings",
    "pollwatch.accreditation",
    "pollwatch.protocols",
    "pollwatch.official",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # first, so every response (redirects too) carries it
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, handed the user read with the session row (one query for both)
    "pollwatch.accounts.sessions.AuthenticationMiddleware",
    # django-otp's OTPMiddleware (request.user.is_verified(): passed TOTP), device read cheaply
    "pollwatch.accounts.otp.VerifiedDeviceMiddleware",
    "pollwatch.accounts.middleware.SecondFactorMiddleware",  # staff: TOTP before anything
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pollwatch.urls"

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

WSGI_APPLICATION = "pollwatch.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("POLLWATCH_DATABASE_URL", f"sqlite:///{DATA_DIR / 'pollwatch.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Kept open between requests (conn_max_age above) as on PostgreSQL: opening one runs these
    # PRAGMAs and registers Django's SQL functions, ~2 ms of CPU, more than a log receipt costs.
else:
    # Parameters bound by the server, and statements prepared once a connection has run them
    # five times (Django turns psycopg's preparing off unless told): PostgreSQL then skips
    # parsing and planning what every submission repeats. Measured on a submission's token
    # and station reads: PostgreSQL's CPU 0.9 -> 0.19 ms, the app's 0.5 -> 0.37 ms. (A pooler
    # in front of PostgreSQL must keep prepared statements per client, as PgBouncer >= 1.21
    # does with max_prepared_statements.)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id for new and changed passwords; the others only check passwords hashed before.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("kk", "Қазақша")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["pollwatch.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The project-wide assets (stylesheet, vendored htmx) live outside any app.
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"

# Django's database sessions and ModelBackend, with the session row, its user and their TOTP
# devices read by one hand-written query (pollwatch/accounts/sessions.py, backends.py): still
# read on every request, so a logout or a deactivation takes effect at once.
SESSION_ENGINE = "pollwatch.accounts.sessions"
AUTHENTICATION_BACKENDS = ["pollwatch.accounts.backends.AccountBackend"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = (
    not DEBUG and os.environ.get("POLLWATCH_INSECURE_COOKIES", "") != "1"
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style anywhere: JS and CSS are static files (QR codes are inline SVG).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Login lockout and throttle (pollwatch/accounts/login_throttle.py): this many wrong passwords
# in a row lock an account name for so many seconds; this many failures from one address within
# the window refuse every login from it.
POLLWATCH_LOGIN_LOCKOUT_FAILURES = int(os.environ.get("POLLWATCH_LOGIN_LOCKOUT_FAILURES", "5"))
POLLWATCH_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("POLLWATCH_LOGIN_LOCKOUT_SECONDS", "900"))
POLLWATCH_LOGIN_IP_FAILURES = int(os.environ.get("POLLWATCH_LOGIN_IP_FAILURES", "30"))
POLLWATCH_LOGIN_IP_WINDOW_SECONDS = int(os.environ.get("POLLWATCH_LOGIN_IP_WINDOW_SECONDS", "900"))
# A sign-in link handed to an observer (accounts/observer_signins.py) works once, this long.
POLLWATCH_SIGNIN_LINK_DAYS = int(os.environ.get("POLLWATCH_SIGNIN_LINK_DAYS", "7"))
OTP_TOTP_ISSUER = "pollwatch"

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 1000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
