"""Configuration from environment variables, with safe defaults for the embedded SQLite mode."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """``RAPPORT_SECRET_KEY``, else a key generated once into the instance folder (never the repo)."""
    if os.environ.get("RAPPORT_SECRET_KEY"):
        return os.environ["RAPPORT_SECRET_KEY"]
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("RAPPORT_DATABASE_URL") or f"sqlite:///{instance_path / 'rapport.db'}"
    redis_url = os.environ.get("RAPPORT_REDIS_URL") or None
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "DATABASE_URL": database_url,
        # Migrations may run as the owner of the tables while the app connects as a plain role.
        "MIGRATE_DATABASE_URL": os.environ.get("RAPPORT_MIGRATE_DATABASE_URL") or database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "rapport-memory://",  # rapport.security.MemoryLimitStorage
        "MAIL_SERVER": os.environ.get("RAPPORT_MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("RAPPORT_MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("RAPPORT_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("RAPPORT_MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("RAPPORT_MAIL_USE_TLS"),
        "MAIL_SENDER": os.environ.get("RAPPORT_MAIL_SENDER", "Rapport <no-reply@localhost>"),
        "BASE_URL": os.environ.get("RAPPORT_BASE_URL", "http://127.0.0.1:8000"),
        "SESSION_COOKIE_SECURE": _bool("RAPPORT_SECURE_COOKIES"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("RAPPORT_MAX_BODY_BYTES", str(10 * 1024 * 1024))),
        "SIGNUP_ENABLED": _bool("RAPPORT_SIGNUP_ENABLED", True),
        # Run background jobs inside the call that queues them (no worker needed; scripts and tests).
        "TASKS_IMMEDIATE": _bool("RAPPORT_TASKS_IMMEDIATE"),
        # Public lead-form limits, tunable per deployment (defaults in DEFAULTS below).
        **{key: os.environ[f"RAPPORT_{key}"] for key in ("LEAD_FORM_RATE_LIMIT_IP", "LEAD_FORM_RATE_LIMIT_FORM")
           if os.environ.get(f"RAPPORT_{key}")},
    }


DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ["en", "zh_CN"],
    "API_TITLE": "Rapport API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "RATELIMIT_HEADERS_ENABLED": False,  # see rapport.security.limiter
    # Redis down must not take the site down: limits fall back to per-worker memory until it is back.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    "LOGIN_RATE_LIMIT_IP": "50 per minute",
    "LOGIN_RATE_LIMIT_ACCOUNT": "10 per minute",
    "PUBLIC_RATE_LIMIT": "30 per minute",
    # Public lead forms (plugin lead_capture): submissions per client IP across all forms, per form
    # across all IPs, and the largest submission body accepted (413 above it).
    "LEAD_FORM_RATE_LIMIT_IP": "20 per minute",
    "LEAD_FORM_RATE_LIMIT_FORM": "600 per minute",
    "LEAD_FORM_MAX_BODY_BYTES": 64 * 1024,
    "INVITE_MAX_AGE": 7 * 24 * 3600,
    "RESET_MAX_AGE": 3600,
}
