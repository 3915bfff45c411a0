"""API tokens page: own tokens only, the secret shown once, revocation."""
from __future__ import annotations

import re

from sqlalchemy import select

from rapport import tokens as token_store
from rapport.db import db
from rapport.models import ApiToken, AuditEvent

TOKENS = "/t/acme/admin/tokens"


def secret_in(html: str) -> str:
    return re.search(r'value="(rpt_[^"]+)"', html).group(1)


def test_created_token_is_shown_once_and_stored_hashed(owner_client, acme, scoped):
    response = owner_client.post(TOKENS, data={"name": "Website <sync>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    secret = secret_in(html)
    assert "Website &lt;sync&gt;" in html
    with scoped(acme):
        row = token_store.find_token(secret)
        assert row is not None and row.name == "Website <sync>"
        assert secret not in (row.token_hash, row.prefix) and secret.startswith(row.prefix)
        audited = db.session.scalar(select(AuditEvent).where(AuditEvent.record_id == row.id))
    assert secret not in str(audited.changes)
    listing = owner_client.get(TOKENS).get_data(as_text=True)
    assert secret not in listing and row.prefix in listing and "Never" in listing


def test_a_token_needs_a_name(owner_client, acme, scoped):
    for name, status in (("   ", 422), ("x" * 101, 422)):
        response = owner_client.post(TOKENS, data={"name": name})
        assert response.status_code == status and 'id="e-name"' in response.get_data(as_text=True)
    with scoped(acme):
        assert db.session.scalars(select(ApiToken)).all() == []


def test_revoke_stops_the_token(owner_client, acme, scoped):
    secret = secret_in(owner_client.post(TOKENS, data={"name": "CI"}).get_data(as_text=True))
    with scoped(acme):
        row = token_store.find_token(secret)
    assert owner_client.post(f"{TOKENS}/{row.id}/revoke").status_code == 302
    with scoped(acme):
        assert token_store.find_token(secret) is None
        assert db.session.get(ApiToken, (acme.id, row.id)).revoked_at is not None
    listing = owner_client.get(TOKENS).get_data(as_text=True)
    assert "Revoked" in listing and f"{row.id}/revoke" not in listing


def test_members_see_and_revoke_only_their_own_tokens(app, owner_client, world, acme, scoped):
    owner_secret = secret_in(owner_client.post(TOKENS, data={"name": "Owner's"}).get_data(as_text=True))
    with scoped(acme):
        owner_token = token_store.find_token(owner_secret)
    world.member(acme, "sam@acme.test", "agent")
    sam = app.test_client()
    world.login(sam, "sam@acme.test")
    assert "Owner&#39;s" not in sam.get(TOKENS).get_data(as_text=True)
    assert sam.post(f"{TOKENS}/{owner_token.id}/revoke").status_code == 404
    with scoped(acme):
        assert token_store.find_token(owner_secret) is not None
