"""The tenant of a request comes from its URL only: headers a client can set change nothing."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

SPOOFING = [
    {"X-Tenant": "bravo"},
    {"X-Tenant-Id": "{bravo_id}"},
    {"X-Forwarded-Host": "bravo.example.test"},
    {"X-Original-URL": "/t/bravo/"},
    {"X-Rewrite-URL": "/t/bravo/"},
    {"Forwarded": "host=bravo.example.test"},
]


def _headers(template: dict, bravo) -> dict:
    return {k: v.format(bravo_id=bravo.tenant.id) for k, v in template.items()}


@pytest.mark.parametrize("spoof", SPOOFING, ids=[next(iter(h)) for h in SPOOFING])
def test_headers_do_not_change_the_tenant_of_a_page(client, world, alpha, bravo, spoof):
    world.login(client, alpha.owner_email)
    page = client.get("/t/alpha/", headers=_headers(spoof, bravo))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Alpha Holdings" in body
    assert not [s for s in bravo.secrets if s in body]
    # ...nor open B's pages to a user of A.
    assert client.get("/t/bravo/", headers=_headers(spoof, bravo)).status_code == 404


@pytest.mark.parametrize("host", ["bravo.example.test", "bravo.localhost"])
def test_host_does_not_change_the_tenant(client, alpha, bravo, host):
    base = f"http://{host}/"
    assert client.post("/login", data={"email": alpha.owner_email, "password": PASSWORD}, base_url=base).status_code == 302
    page = client.get("/t/alpha/", base_url=base)
    assert page.status_code == 200 and "Alpha Holdings" in page.get_data(as_text=True)
    assert "Bravo Holdings" not in page.get_data(as_text=True)
    assert client.get("/t/bravo/", base_url=base).status_code == 404


@pytest.mark.parametrize("spoof", SPOOFING, ids=[next(iter(h)) for h in SPOOFING])
def test_headers_do_not_change_the_tenant_of_an_api_call(app, alpha, bravo, spoof):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {alpha.token_secret}", **_headers(spoof, bravo)}
    listed = client.get("/t/alpha/api/v1/contacts", headers=headers)
    assert listed.status_code == 200
    assert [c["email"] for c in listed.get_json()["items"]] == ["contact@alpha.test"]
    # A's token stays unknown on B's path whatever the headers claim.
    assert client.get("/t/bravo/api/v1/contacts", headers=headers).status_code == 401
