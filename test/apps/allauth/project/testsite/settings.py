"""
A minimal Django project on django-allauth's account and MFA apps, for the allauth connector's
tests. Everything that varies per run comes from the environment (test/apps/allauth/server.ts
sets it): the database file, where the allauth URLs are mounted, the re-authentication age, and
whether the pages wear allauth's own templates or a restyled theme.
Served on 127.0.0.1 only; it sends no mail (console backend) and calls nothing outside.
"""
import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("ALLAUTH_TEST_DATA_DIR", "/nonexistent"))

SECRET_KEY = os.environ["ALLAUTH_TEST_SECRET_KEY"]
DEBUG = False
# More hosts when pods reach the site through a TLS front on the node address (test/support/tls-front.ts),
# which says the request came over https.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", *filter(None, os.environ.get("ALLAUTH_TEST_EXTRA_HOSTS", "").split(","))]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Where allauth's URLs are mounted (`accounts/` in allauth's own docs); a project may pick another.
URL_PREFIX = os.environ.get("ALLAUTH_TEST_URL_PREFIX", "accounts/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "testsite",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "testsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # ALLAUTH_TEST_THEME=restyled: the site's own layout and allauth elements first (see restyled/README.md).
        "DIRS": [Path(__file__).resolve().parent.parent / "restyled"] if os.environ.get("ALLAUTH_TEST_THEME") == "restyled" else [],
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

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"}}
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
# Rate limits live in the cache; one runserver process keeps them in memory.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# Seconds after a sign-in before adding or removing an authenticator asks for the password again.
ACCOUNT_REAUTHENTICATION_TIMEOUT = int(os.environ.get("ALLAUTH_TEST_REAUTHENTICATION_TIMEOUT", "300"))
# allauth's default for failed sign-ins, except per address: every test signs in from 127.0.0.1, so the
# default 10 a minute per address would let one test's wrong passwords lock out the next test's user.
ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip,5/5m/key"}

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "allauth-test"

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
