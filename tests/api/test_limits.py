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



def test_the_limit_is_counted_before_any_database_work(client, api):
    """Under a flood, a refused call costs no tenant or token query: a token hammering a tenant that
    does not exist is refused by the limit too, after its budget of 404s."""
    headers = {"Authorization": f"Bearer {api.token}"}
    path = "/t/no-such-tenant/api/v1/accounts"
    statuses = [client.get(path, headers=headers).status_code for _ in range(6)]
    assert statuses == [404] * 5 + [429]
    retry_after = int(client.get(path, headers=headers).headers["Retry-After"])
    assert 1 <= retry_after <= 60


def test_a_plugin_api_has_the_same_limit_with_a_budget_of_its_own(api):
    assert api.put("/plugins/lead_capture", json={"enabled": True}).status_code == 200  # 1 of 5 (core API)
    assert [api.get("/forms").status_code for _ in range(6)] == [200] * 5 + [429]
    assert [api.get("/accounts").status_code for _ in range(5)] == [200] * 4 + [429]
