"""CSRF, security headers, rate limits and password hashing."""
from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash, generate_password_hash

csrf = CSRFProtect()
# No X-RateLimit-* headers on every answer: working out "remaining" and "reset" costs a storage round
# trip per limit on each request (Redis, when configured). A refused request still says when to come
# back (``Retry-After``, see ``_retry_after``).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


class MemoryLimitStorage(MemoryStorage):
    """limits' in-process storage (``rapport-memory://``, the default without Redis), without the
    clean-up thread that ``MemoryStorage`` starts on every hit once the previous one has finished:
    10 ms after each request a new thread woke up to sweep, competing for the interpreter with the
    next request (one thread started per API call in the benchmark). Every read checks its own
    key's expiry anyway; here the sweep of expired keys runs inline, at most once a second."""

    STORAGE_SCHEME = ["rapport-memory"]
    SWEEP_EVERY = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one MemoryStorage starts on creation
        self._next_sweep = 0.0

    def __setstate__(self, state):
        super().__setstate__(state)
        self.timer.cancel()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 -- replaces the parent's private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()


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


@functools.lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def check_limit(limit: str, scope: str, key: str) -> None:
    """Count one hit of ``limit`` (e.g. "20 per minute") for ``key`` within ``scope`` with the limiter's
    own storage and strategy; a 429 with ``Retry-After`` once the limit is reached.

    For the hot paths (every API call, every form submission): Flask-Limiter works out exemptions,
    scopes and every limit that could apply on each request, 0.3-0.5 ms of a 7 ms API call on the
    benchmark's machine for one counter. The few limits of the log-in pages stay decorated."""
    if not limiter.enabled:
        return
    item, identifiers = _parsed(limit), (scope, key)
    try:
        allowed = limiter.limiter.hit(item, *identifiers)
    except Exception:  # noqa: BLE001 -- the storage (Redis) is down
        if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
            raise
        current_app.logger.warning("rate limit storage unreachable: %s not counted", scope)
        return
    if not allowed:
        reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
        raise TooManyRequests(str(item), retry_after=max(1, math.ceil(reset - time.time())))


def limit_blueprint(bp, limit: Callable[[], str], key: Callable[[], str]) -> None:
    """``limit()`` on every request to blueprint ``bp``, per ``key()``, checked before anything else
    of the request's work (the tenant's query comes after)."""
    scope = bp.name

    def check():
        if request.blueprint == scope:
            check_limit(limit(), scope, key())

    bp.record_once(lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, check))


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter's check before every request looks for app-wide, default and blueprint limits;
    # there are none (decorated views check in their own wrapper; hot paths call check_limit), and
    # the look costs 0.2 ms on every request. tests/security/test_memory_limits.py keeps it so.
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)

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
