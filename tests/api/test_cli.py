"""``rapport tokens create <slug> <email> --name NAME`` prints only a token that works."""
from __future__ import annotations

from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import ApiToken

from .conftest import ApiClient


def test_tokens_create_prints_a_working_token(runner, client, acme):
    result = runner.invoke(args=["tokens", "create", "acme", "OWNER@acme.test", "--name", "billing sync"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert result.output == token + "\n" and token.startswith("rpt_")
    api = ApiClient(client, "acme", token)
    assert api.post("/accounts", json={"name": "Via CLI token"}).status_code == 201
    with tenancy.tenant_scope(acme.id):
        row = db.session.scalars(select(ApiToken)).one()
    assert row.name == "billing sync" and row.token_hash != token  # stored hashed


def test_tokens_create_refuses_unknown_tenant_or_member(runner, acme, world):
    world.tenant("beta", owner_email="owner@beta.test")
    result = runner.invoke(args=["tokens", "create", "nope", "owner@acme.test", "--name", "x"])
    assert result.exit_code != 0 and "nope" in result.output
    result = runner.invoke(args=["tokens", "create", "acme", "owner@beta.test", "--name", "x"])
    assert result.exit_code != 0 and "not an active member" in result.output
    with tenancy.tenant_scope(acme.id):
        assert db.session.scalars(select(ApiToken)).all() == []


def test_tokens_create_needs_a_name(runner, acme):
    result = runner.invoke(args=["tokens", "create", "acme", "owner@acme.test"])
    assert result.exit_code != 0 and "--name" in result.output
