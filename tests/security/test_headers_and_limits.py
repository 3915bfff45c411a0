"""Security headers on every kind of answer, and the request body limit (413)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

LIMIT = 4096


@pytest.fixture
def app_config():
    return {"MAX_CONTENT_LENGTH": LIMIT}


def assert_security_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") in ("frame-ancestors 'none'", "frame-ancestors 'self'"), csp
    assert "'unsafe-inline'" not in directives.get("script-src", "script-src"), csp
    assert directives.get("object-src") == "object-src 'none'", csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_headers_on_pages_errors_api_and_static(app, client, world, alpha):
    world.login(client, alpha.owner_email)
    api = {"Authorization": f"Bearer {alpha.token_secret}"}
    answers = {
        "page": client.get("/t/alpha/"),
        "login": app.test_client().get("/login"),
        "404": client.get("/t/nowhere/"),
        "api": client.get("/t/alpha/api/v1/contacts", headers=api),
        "api 401": app.test_client().get("/t/alpha/api/v1/contacts"),
        "static": client.get("/static/rapport.css"),
        "health": client.get("/healthz"),
    }
    assert answers["page"].status_code == 200 and answers["api"].status_code == 200
    for name, response in answers.items():
        try:
            assert_security_headers(response)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_oversized_form_post_is_413(client, alpha):
    response = client.post("/login", data={"email": alpha.owner_email, "password": PASSWORD, "pad": "x" * LIMIT * 2})
    assert response.status_code == 413


def test_oversized_tenant_form_is_413(client, world, alpha):
    world.login(client, alpha.owner_email)
    response = client.post("/t/alpha/admin/tokens", data={"name": "x" * LIMIT * 2})
    assert response.status_code == 413


def test_oversized_api_body_is_413_problem(app, alpha):
    response = app.test_client().post(
        "/t/alpha/api/v1/accounts",
        json={"name": "x" * LIMIT * 2},
        headers={"Authorization": f"Bearer {alpha.token_secret}"},
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_body_under_the_limit_is_accepted(client, alpha):
    response = client.post("/login", data={"email": alpha.owner_email, "password": PASSWORD})
    assert response.status_code == 302
