"""With CSRF protection on (as in production), admin forms carry a token and posts without it fail."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_admin_forms_need_their_csrf_token(client, world, acme):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "owner@acme.test", "password": PASSWORD, "csrf_token": token})
    members = client.get("/t/acme/admin/members").get_data(as_text=True)
    assert members.count('name="csrf_token"') >= 3  # log-out, role change, remove ... and invite
    refused = client.post("/t/acme/admin/tokens", data={"name": "no token"})
    assert refused.status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', members).group(1)
    accepted = client.post("/t/acme/admin/tokens", data={"name": "with token", "csrf_token": token})
    assert accepted.status_code == 201
