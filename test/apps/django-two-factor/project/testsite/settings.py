"""
A minimal Django project on django-two-factor-auth (django-otp underneath), for the django-two-factor
connector's tests, set up as the package's docs say: its login view as the site's LOGIN_URL, django-otp's
middleware, TOTP and static (backup token) devices. Everything that varies per run comes from the
environment (test/apps/django-two-factor/server.ts sets it): the database file, where two_factor.urls is
mounted, and which setup methods the wizard offers. Served on 127.0.0.1 only; it sends no mail (console
backend) and calls nothing outside.
"""
import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("D2FA_TEST_DATA_DIR", "/nonexistent"))

SECRET_KEY = os.environ["D2FA_TEST_SECRET_KEY"]
DEBUG = False
# More hosts when pods reach the site through a TLS front on the node address (test/support/tls-front.ts),
# which says the request came over https.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", *filter(None, os.environ.get("D2FA_TEST_EXTRA_HOSTS", "").split(","))]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Where two_factor.urls is mounted (the root in the package's docs; its pages are then under account/).
URL_PREFIX = os.environ.get("D2FA_TEST_URL_PREFIX", "")
# `generator,email`: the wizard asks for the method first; `generator` alone skips that step.
METHODS = os.environ.get("D2FA_TEST_METHODS", "generator,email").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    *(["django_otp.plugins.otp_email"] if "email" in METHODS else []),
    # Before two_factor, so that its two_factor/_base.html (the site's layout) wins over the package's.
    "testsite",
    "two_factor",
    # Plugins after two_factor, as its system check asks.
    *(["two_factor.plugins.email"] if "email" in METHODS else []),
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "testsite.urls"
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

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# As the package's docs set them: its login view signs in, and a signed-in user lands on the home page.
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "home"
# Without django.contrib.sites the wizard's issuer is the request's host (RequestSite).

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
