"""CSRF, security headers, rate limits and password hashing."""
from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

csrf = CSRFProtect()
# No X-RateLimit-* headers on every answer: working out "remaining" and "reset" costs a storage round
# trip per limit on each request (Redis, when configured). A refused request still says when to come
# back (``Retry-After``, see ``_retry_after``).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def hash_password(password: str) -> str:
    """scrypt (a memory-hard KDF) with a random salt."""
    # Tests lower scrypt's cost (PASSWORD_HASH_METHOD) to stay fast; production keeps werkzeug's default.
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if current_app else "scrypt"
    return generate_password_hash(password, method=method)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so that unknown accounts cannot be told apart.
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


def _seconds_until_reset() -> int:
    """Until the refusing limit's window ends (a minute when that cannot be read)."""
    try:
        limit = limiter.current_limit
        if limit is not None:
            return max(1, math.ceil(limit.reset_at - time.time()))
    except Exception:  # noqa: BLE001 -- limit storage unreachable: fall back to the longest common window
        pass
    return 60


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)

    @app.after_request
    def _retry_after(response):
        if response.status_code == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(_seconds_until_reset())
        return response

    @app.after_request
    def _security_headers(response):
        csp = response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if "frame-ancestors 'none'" in csp:
            # The legacy twin of frame-ancestors 'none'; a page that sets its own frame-ancestors
            # (a lead form embedded on the tenant's site) must not be denied by it.
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
