"""The in-process rate-limit storage (the default without Redis): it limits like limits' own memory
storage, but starts no clean-up thread per hit; expired keys are swept inline."""
from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from rapport.security import MemoryLimitStorage, limiter


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True}  # the storage: what the app picks itself


def _timers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]


def test_the_default_storage_without_redis_is_the_threadless_one(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "rapport-memory://"
    with app.app_context():
        assert isinstance(limiter.storage, MemoryLimitStorage)


def test_it_limits_and_starts_no_thread():
    storage = storage_from_string("rapport-memory://")
    before = _timers()
    fixed, moving = FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)
    three = parse("3 per minute")
    assert [fixed.hit(three, "fixed") for _ in range(4)] == [True, True, True, False]
    assert [moving.hit(three, "moving") for _ in range(4)] == [True, True, True, False]
    assert fixed.hit(three, "another key")  # one key's limit is its own
    assert _timers() == before


def test_expired_keys_are_swept_inline():
    storage = storage_from_string("rapport-memory://")
    storage.incr("old", 60)
    storage.acquire_entry("old events", 5, 60)
    storage.expirations["old"] = time.time() - 1  # as if its window had ended
    for entry in storage.events["old events"]:
        entry.expiry = time.time() - 1
    storage._next_sweep = 0.0  # the next hit is due to sweep
    storage.incr("new", 60)
    assert "old" not in storage.storage and "old" not in storage.expirations
    assert not storage.events.get("old events")  # its expired entries are gone
    assert storage.get("new") == 1


def test_no_limit_relies_on_flask_limiters_hook_before_every_request(app):
    """The app drops Flask-Limiter's per-request check: every limit must be a decorated view's (checked
    in its wrapper) or go through rapport.security.check_limit. An app-wide, default or blueprint limit
    declared with Flask-Limiter would never be enforced."""
    manager = limiter.limit_manager
    assert not manager.application_limits and not manager.default_limits
    assert not manager._blueprint_limits
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
