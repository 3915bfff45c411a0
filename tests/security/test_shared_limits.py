"""Rate limits live in shared storage: two app instances (two gunicorn workers, or two hosts) that
point at the same Redis count one log-in burst together. The memory storage, by contrast, is per
worker, which is why production sets ``RAPPORT_REDIS_URL``."""
from __future__ import annotations

import uuid

import pytest

from rapport.db import db
from tests.conftest import make_test_app

PER_ACCOUNT = 3


def worker(database, path, storage):
    return make_test_app(
        database, path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=storage,
        LOGIN_RATE_LIMIT_ACCOUNT=f"{PER_ACCOUNT} per minute",
        LOGIN_RATE_LIMIT_IP="1000 per minute",
    )


def attempts(app, email, where, count):
    client = app.test_client()
    with app.app_context():
        statuses = [
            client.post("/login", data={"email": email, "password": "wrong password!"}, environ_base=where).status_code
            for _ in range(count)
        ]
    db.engine.dispose()  # each app instance opened its own engine
    return statuses


def burst_then_other_worker(database, tmp_path, storage) -> list[int]:
    # A fresh account and address each run, so counters left in Redis by earlier runs do not count.
    email, where = f"{uuid.uuid4().hex}@limits.test", {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.0.1"}
    first = worker(database, tmp_path / "one", storage)
    assert attempts(first, email, where, PER_ACCOUNT) == [401] * PER_ACCOUNT
    second = worker(database, tmp_path / "two", storage)  # starts with its own limiter storage
    return attempts(second, email, where, 1)


@pytest.mark.redis
def test_workers_sharing_redis_share_the_login_counter(database, tmp_path, redis_url):
    assert burst_then_other_worker(database, tmp_path, redis_url) == [429]


def test_memory_storage_is_per_worker(database, tmp_path):
    assert burst_then_other_worker(database, tmp_path, "rapport-memory://") == [401]
