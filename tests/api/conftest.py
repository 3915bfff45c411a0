"""Fixtures for the API tests: a tenant, members with tokens, and a small client that sends them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import Membership, User
from rapport.tokens import create_token


class ApiClient:
    """The Flask test client, rooted at one tenant's API and sending one bearer token."""

    def __init__(self, client, slug: str, token: str | None):
        self.client, self.slug, self.token = client, slug, token

    def url(self, path: str) -> str:
        return f"/t/{self.slug}/api/v1{path}"

    def open(self, method: str, path: str, headers: dict | None = None, **kwargs):
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers or {})
        return self.client.open(self.url(path), method=method, headers=sent, **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)

    def create(self, record_type: str, **data) -> dict:
        response = self.post(f"/{record_type}", json=data)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()


def token_for(tenant, email: str, name: str = "test") -> str:
    """A new API token for the member ``email`` of ``tenant`` (committed, as the CLI would)."""
    with tenancy.tenant_scope(tenant.id):
        member = db.session.scalar(
            select(Membership).join(User, User.id == Membership.user_id).where(User.email == email)
        )
        _row, secret = create_token(member, name)
        db.session.commit()
    return secret


@pytest.fixture
def acme(world):
    return world.tenant("acme", owner_email="owner@acme.test")


@pytest.fixture
def api(client, acme):
    """The owner of ``acme`` (every permission) talking to acme's API."""
    return ApiClient(client, "acme", token_for(acme, "owner@acme.test"))


@pytest.fixture
def api_as(client, world, acme):
    """``api_as(role)``: a new member of acme with ``role`` and a client using their token."""
    counter = iter(range(1000))

    def make(role: str) -> ApiClient:
        email = f"{role}{next(counter)}@acme.test"
        world.member(acme, email, role)
        return ApiClient(client, "acme", token_for(acme, email))

    return make


@pytest.fixture
def anonymous(client, acme):
    return ApiClient(client, "acme", None)
