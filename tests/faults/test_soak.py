"""The soak of bench/soak.py, shortened for CI: 30 seconds of mixed traffic (API lists and creates,
record pages with a logged-in session, lead-form submissions) over 100 tenants through gunicorn and
the task worker on PostgreSQL and Redis, with no error at all. The 10-minute run and its memory
figures live in bench/ (docs/performance.md); nothing here is timed."""
from __future__ import annotations

import os

import pytest

from bench import soak
from tests.conftest import postgres_server_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_thirty_seconds_of_mixed_traffic_without_an_error(redis_url):
    server = postgres_server_url()
    if not server:
        pytest.skip("the soak runs on PostgreSQL: set RAPPORT_TEST_DATABASE_URL (CI sets it)")
    seconds = float(os.environ.get("RAPPORT_SOAK_SECONDS", "30"))
    result = soak.run(server, redis_url, duration=seconds, rate=20, tenants=100, per_tenant=50, workers=3)
    print("\n" + soak.markdown(result))
    assert result["requests"] == int(20 * seconds)
    assert result["error_rate"] == 0, (result["statuses"], result["errors"])
    assert all(result["ok_by_kind"][kind] > 0 for kind in ("list", "page", "create", "submit")), result["ok_by_kind"]
