"""Django settings for the interop suite's OAuth server: django-oauth-toolkit with
refresh-token rotation and reuse protection, RFC 7009 revocation and OIDC userinfo.

Everything machine-specific comes from the environment set by dot_server.py:
DOT_DB (the sqlite file), DOT_SECRET_KEY, DOT_RSA_KEY_FILE (the OIDC signing key).
"""

import os
from pathlib import Path

SECRET_KEY = os.environ["DOT_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",  # the authorization-code flow's logged-in user
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "dotsite.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One sqlite file shared by the plain and the TLS gunicorn and their workers. Every
# request is one IMMEDIATE transaction: writers queue on the lock (up to `timeout`)
# instead of failing with "database is locked" when a read lock cannot be upgraded.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["DOT_DB"],
        "ATOMIC_REQUESTS": True,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}

# Test speed only: Django's default PBKDF2 costs ~0.3 s per hash on a busy 2-core box,
# and DOT hashes client secrets with it too, so every token request would pay it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

OAUTH2_PROVIDER = {
    # What Salesforce does and what sfrefresh must survive: every refresh returns a new
    # refresh token, and replaying a rotated-out one revokes the whole token family.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "PKCE_REQUIRED": False,
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": Path(os.environ["DOT_RSA_KEY_FILE"]).read_text(),
    "SCOPES": {
        "openid": "OpenID Connect",
        "read": "Read",
        "write": "Write",
    },
    "DEFAULT_SCOPES": ["openid", "read"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # DOT warns on every password grant (RFC 9700 discourages it); the fixture needs it.
        "oauth2_provider": {"level": "ERROR"},
        # Every refused refresh is a "Bad Request" warning; the tests make many on purpose.
        "django.request": {"level": "ERROR"},
    },
}

# Tables straight from the models (migrate --run-syncdb) instead of replaying every
# migration: a fresh database per run, and ~1 s less start-up.
MIGRATION_MODULES = {app: None for app in ("auth", "contenttypes", "sessions", "oauth2_provider")}
