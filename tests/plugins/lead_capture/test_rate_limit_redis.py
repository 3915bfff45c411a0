"""The lead forms' rate limits hold across gunicorn workers: two workers configured with Redis
(``RAPPORT_REDIS_URL``) count one form's submissions together, so a burst spread over both is cut at
the limit, and exactly as many submissions are stored as were acknowledged.

Needs a Redis server (``RAPPORT_TEST_REDIS_URL``); skipped without one, required in CI. The server
runs on a database of its own (PostgreSQL when ``RAPPORT_TEST_DATABASE_URL`` is set, else SQLite)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.livesupport import LiveServer
from tests.plugins.lead_capture.public_helpers import LiveDatabase

pytestmark = pytest.mark.redis

PER_FORM = 6
SENT = 20  # spread over both workers by four concurrent senders


@pytest.fixture
def live_database(tmp_path):
    database = LiveDatabase(tmp_path)
    yield database
    database.drop()


def submit(url: str, n: int) -> int:
    body = json.dumps({"email": f"burst{n}@example.com"}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_two_workers_on_redis_share_the_per_form_limit(tmp_path, redis_url, live_database):
    # Fresh names each run: counters that earlier runs left in Redis do not count here.
    tenant_slug, form_slug = f"limits-{uuid.uuid4().hex[:8]}", f"burst-{uuid.uuid4().hex[:8]}"
    live_database.provision(tenant_slug, [{"slug": form_slug, "name": "Burst",
                                           "fields": [{"key": "email", "label": None, "required": True}]}])
    instance = tmp_path / "live"
    instance.mkdir()
    server = LiveServer(live_database.app_url, instance, workers=2, migrate_url=live_database.owner_url, extra_env={
        "RAPPORT_REDIS_URL": redis_url,
        "RAPPORT_TASKS_IMMEDIATE": "1",  # processing inline: nothing left queued in the test Redis
        "RAPPORT_LEAD_FORM_RATE_LIMIT_FORM": f"{PER_FORM} per minute",
        "RAPPORT_LEAD_FORM_RATE_LIMIT_IP": "1000 per minute",
    }).start()
    try:
        url = f"{server.url}/t/{tenant_slug}/f/{form_slug}"
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(lambda n: submit(url, n), range(SENT)))
    finally:
        server.stop()
    assert sorted(set(statuses)) == [201, 429], statuses
    assert statuses.count(201) == PER_FORM, statuses  # per worker, memory storage would let 2x through
    assert len(live_database.submissions(tenant_slug)) == PER_FORM
