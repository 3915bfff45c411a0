"""Body size limit (413), rate limit (429) and CSRF, with the protections switched on as in production."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_config():
    return {"MAX_CONTENT_LENGTH": 2_000, "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
            "API_RATE_LIMIT": "5 per minute"}


def test_api_needs_no_csrf_token(api):
    assert api.post("/accounts", json={"name": "No CSRF needed"}).status_code == 201


def test_too_large_body_is_413_problem(api):
    response = api.post("/accounts", json={"name": "x", "custom": {"blob": "x" * 5_000}})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 413


def test_rate_limit_is_429_problem_per_token(api, api_as):
    statuses = [api.get("/accounts").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    response = api.get("/accounts")
    assert response.status_code == 429 and response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 429 and "Retry-After" in response.headers
    assert api_as("agent").get("/accounts").status_code == 200  # another token has its own budget
