"""A token belongs to one tenant: on another tenant's path it is unknown, and another tenant's ids are
not found on its own path."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rapport import tenancy
from rapport.db import db
from rapport.models import Account

from .conftest import ApiClient, token_for

ITEMS = {"accounts": {"name": "B's"}, "contacts": {"last_name": "B's"}, "leads": {"name": "B's"},
         "activities": {"kind": "note", "subject": "B's"}}


@pytest.fixture
def beta(client, world):
    tenant = world.tenant("beta", owner_email="owner@beta.test")
    return tenant, ApiClient(client, "beta", token_for(tenant, "owner@beta.test"))


def test_token_of_tenant_a_on_tenant_b_path_is_401(api, beta):
    on_b = ApiClient(api.client, "beta", api.token)
    response = on_b.get("/accounts")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert on_b.post("/accounts", json={"name": "Planted"}).status_code == 401


@pytest.mark.parametrize("record_type", ITEMS)
def test_b_ids_on_a_path_are_404(api, beta, record_type):
    _tenant_b, b = beta
    theirs = b.create(record_type, **ITEMS[record_type])["id"]
    path = f"/{record_type}/{theirs}"
    assert api.get(path).status_code == 404
    assert api.patch(path, json={}).status_code == 404
    assert api.delete(path).status_code == 404
    assert b.get(path).status_code == 200  # still there, unchanged


def test_a_reference_to_b_record_is_refused(api, beta):
    _tenant_b, b = beta
    account_b = b.create("accounts", name="B's account")["id"]
    response = api.post("/contacts", json={"last_name": "Cross", "account_id": account_b})
    assert response.status_code == 422 and "account_id" in response.get_json()["errors"]


def test_lists_show_only_own_tenant(api, beta, acme):
    tenant_b, b = beta
    b.create("accounts", name="B only")
    api.create("accounts", name="A only")
    assert [a["name"] for a in api.get("/accounts").get_json()["items"]] == ["A only"]
    assert [a["name"] for a in b.get("/accounts").get_json()["items"]] == ["B only"]
    with tenancy.tenant_scope(tenant_b.id):
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
