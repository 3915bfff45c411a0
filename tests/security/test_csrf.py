"""CSRF: every state-changing form of the app, found in the URL map, refuses a request without a
valid token; the bearer-token API needs none, and a session cookie never authenticates it."""
from __future__ import annotations

import pytest

from tests.isolation.support import STATE_CHANGING, is_api, unknown_variables
from tests.security.conftest import csrf_token, log_in

# Values for URL variables of routes outside a tenant (reset links).
GLOBAL_VALUES = {"token": "not-a-real-token"}
# Forms deliberately without CSRF, each with the reason (and the test that covers what replaces it).
EXEMPT = {
    # No session authority to ride on (a visitor, often in a cross-site iframe where SameSite=Lax sends no
    # cookie); a signed fill token and the origin check play that role (tests/plugins/lead_capture).
    "lead_capture_public.submit": "public lead form",
}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def form_posts(app, alpha):
    """(method, path) of every non-API state-changing rule, filled with tenant A's values."""
    values = {**GLOBAL_VALUES, **alpha.url_values()}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if is_api(rule) or not set(STATE_CHANGING) & rule.methods or rule.endpoint in EXEMPT:
            continue
        unknown = unknown_variables(rule) - set(GLOBAL_VALUES)
        assert not unknown, f"{rule.rule}: add {sorted(unknown)} to the fill tables of the CSRF test"
        args = {name: values[name] for name in rule.arguments if name != "tenant_slug"}
        if "tenant_slug" in rule.arguments:
            args["tenant_slug"] = alpha.slug
        for method in STATE_CHANGING:
            if method in rule.methods:
                yield method, rule.build(args, append_unknown=False)[1]


def test_every_form_refuses_a_post_without_token(app, client, alpha):
    assert log_in(client, alpha.owner_email).status_code == 302
    posts = list(form_posts(app, alpha))
    assert ("POST", "/login") in posts and any(path.startswith("/t/alpha/") for _, path in posts)
    failures = []
    for method, path in posts:
        for data in ({}, {"csrf_token": "forged"}):
            response = client.open(path, method=method, data=data)
            if response.status_code != 400 or "CSRF" not in response.get_data(as_text=True):
                failures.append(f"{method} {path} {data}: {response.status_code}")
    assert not failures, "forms accepted without a valid CSRF token:\n" + "\n".join(failures)


def test_login_form_works_with_its_token(client, alpha):
    assert log_in(client, alpha.owner_email).status_code == 302
    assert client.get("/t/alpha/").status_code == 200


def test_tenant_form_works_with_its_token(client, alpha):
    log_in(client, alpha.owner_email)
    token = csrf_token(client, "/t/alpha/admin/tokens")
    response = client.post("/t/alpha/admin/tokens", data={"name": "via form", "csrf_token": token})
    assert response.status_code in (200, 201, 302), response.status_code


def api_posts(app, alpha):
    values = alpha.url_values()
    for rule in app.url_map.iter_rules():
        if is_api(rule) and "POST" in rule.methods and not unknown_variables(rule):
            args = {name: values[name] for name in rule.arguments if name != "tenant_slug"}
            yield rule.build({**args, "tenant_slug": alpha.slug}, append_unknown=False)[1]


def test_bearer_api_needs_no_csrf_token(app, alpha):
    client = app.test_client()
    paths = list(api_posts(app, alpha))
    assert "/t/alpha/api/v1/accounts" in paths
    created = client.post("/t/alpha/api/v1/accounts", json={"name": "Via API"},
                          headers={"Authorization": f"Bearer {alpha.token_secret}"})
    assert created.status_code == 201, created.get_data(as_text=True)
    for path in paths:
        response = client.post(path, json={}, headers={"Authorization": f"Bearer {alpha.token_secret}"})
        assert "CSRF" not in response.get_data(as_text=True), path


def test_session_cookie_does_not_authenticate_the_api(app, client, alpha):
    # Exempt from CSRF is safe only because no cookie ever authenticates an API call.
    log_in(client, alpha.owner_email)
    for path in api_posts(app, alpha):
        assert client.post(path, json={"name": "Forged"}).status_code == 401, path
    assert client.get("/t/alpha/api/v1/contacts").status_code == 401
