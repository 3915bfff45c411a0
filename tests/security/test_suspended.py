"""A suspended tenant: its staff see a clear page (403), its API answers a 403 problem with the
reason, and nothing of its data is served."""
from __future__ import annotations

import pytest

from rapport.db import db

REASON = "Unpaid invoice 42"


@pytest.fixture
def suspended(runner, alpha):
    result = runner.invoke(args=["tenants", "suspend", "alpha", "--reason", REASON])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return alpha


def test_staff_page_shows_the_suspended_page(client, world, suspended):
    world.login(client, suspended.owner_email)
    for path in ("/t/alpha/", "/t/alpha/contacts", f"/t/alpha/contacts/{suspended.contact.id}", "/t/alpha/admin/members"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert "suspended" in body and REASON in body, path
        assert "contact@alpha.test" not in body


def test_form_posts_are_refused_too(client, world, suspended):
    world.login(client, suspended.owner_email)
    response = client.post("/t/alpha/admin/tokens", data={"name": "while suspended"})
    assert response.status_code == 403


def test_api_answers_403_problem_with_reason(app, suspended):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {suspended.token_secret}"}
    for method, path in (("GET", "/t/alpha/api/v1/contacts"), ("POST", "/t/alpha/api/v1/accounts")):
        response = client.open(path, method=method, headers=headers, json={"name": "x"} if method == "POST" else None)
        assert response.status_code == 403, path
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == REASON


def test_resumed_tenant_works_again(client, world, runner, suspended):
    assert runner.invoke(args=["tenants", "resume", "alpha"]).exit_code == 0
    db.session.expire_all()
    world.login(client, suspended.owner_email)
    assert client.get("/t/alpha/").status_code == 200


def test_outsiders_learn_no_reason(app, client, world, suspended, bravo):
    anonymous = app.test_client().get("/t/alpha/")
    assert anonymous.status_code == 403 and REASON not in anonymous.get_data(as_text=True)
    world.login(client, bravo.owner_email)  # a user of another tenant: A does not exist for them
    assert client.get("/t/alpha/").status_code == 404
    foreign_token = app.test_client().get(
        "/t/alpha/api/v1/contacts", headers={"Authorization": f"Bearer {bravo.token_secret}"}
    )
    assert foreign_token.status_code == 403 and REASON not in foreign_token.get_data(as_text=True)
