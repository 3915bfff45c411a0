"""``Idempotency-Key``: a retry gets the first answer; a different request under the same key is refused."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from rapport import tenancy
from rapport.db import db
from rapport.models import Account, IdempotencyKey


def count_accounts(tenant) -> int:
    with tenancy.tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(Account))


def test_retry_returns_the_first_result_and_writes_once(api, acme):
    headers = {"Idempotency-Key": "order-42"}
    first = api.post("/accounts", json={"name": "Once", "industry": "Food"}, headers=headers)
    retry = api.post("/accounts", json={"industry": "Food", "name": "Once"}, headers=headers)  # same, reordered
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert count_accounts(acme) == 1
    with tenancy.tenant_scope(acme.id):
        row = db.session.scalars(select(IdempotencyKey)).one()
    assert (row.key, row.status_code, row.response["id"]) == ("order-42", 201, first.get_json()["id"])


def test_same_key_different_body_is_refused(api, acme):
    headers = {"Idempotency-Key": "k1"}
    assert api.post("/accounts", json={"name": "First"}, headers=headers).status_code == 201
    response = api.post("/accounts", json={"name": "Second"}, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert count_accounts(acme) == 1


def test_same_key_on_another_endpoint_is_refused(api):
    headers = {"Idempotency-Key": "k2"}
    assert api.post("/accounts", json={"name": "Same"}, headers=headers).status_code == 201
    assert api.post("/leads", json={"name": "Same"}, headers=headers).status_code == 422


def test_keys_belong_to_one_token(api, api_as, acme):
    other = api_as("manager")
    headers = {"Idempotency-Key": "shared"}
    assert api.post("/accounts", json={"name": "Mine"}, headers=headers).status_code == 201
    response = other.post("/accounts", json={"name": "Theirs"}, headers=headers)
    assert response.status_code == 201 and response.get_json()["name"] == "Theirs"
    assert count_accounts(acme) == 2


def test_bad_keys_are_400(api, acme):
    for key in ("x" * 256, "", "   ", "caf\u00e9"):
        response = api.post("/accounts", json={"name": "X"}, headers={"Idempotency-Key": key.encode().decode("latin-1")})
        assert response.status_code == 400, key
        assert response.mimetype == "application/problem+json"
    assert api.post("/accounts", json={"name": "X"}, headers={"Idempotency-Key": "x" * 255}).status_code == 201
    assert count_accounts(acme) == 1


def test_a_refused_request_is_not_stored(api, acme):
    headers = {"Idempotency-Key": "fix-and-retry"}
    assert api.post("/accounts", json={"name": ""}, headers=headers).status_code == 422
    assert api.post("/accounts", json={"name": "Fixed"}, headers=headers).status_code == 201
    assert count_accounts(acme) == 1


def test_an_expired_key_starts_afresh(api, acme):
    headers = {"Idempotency-Key": "old"}
    api.post("/accounts", json={"name": "Long ago"}, headers=headers)
    with tenancy.tenant_scope(acme.id):
        row = db.session.scalars(select(IdempotencyKey)).one()
        row.created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
        db.session.commit()
    response = api.post("/accounts", json={"name": "Today"}, headers=headers)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert count_accounts(acme) == 2
