"""The session cookie: HttpOnly, SameSite=Lax, Secure when configured, and a new session at log-in
(nothing from before log-in survives, so a session planted by an attacker grants nothing)."""
from __future__ import annotations

import pytest
from http.cookies import SimpleCookie

from tests.security.conftest import csrf_token, log_in


@pytest.fixture
def app_config(request):
    # CSRF on: the log-in page then opens a session before log-in, which is what fixation needs.
    return {"WTF_CSRF_ENABLED": True, **getattr(request, "param", {})}


def session_cookie(response, app) -> SimpleCookie:
    name = app.config["SESSION_COOKIE_NAME"]
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if name in cookie:
            return cookie[name]
    raise AssertionError(f"no {name} cookie set")


def decoded(app, value: str) -> dict:
    return dict(app.session_interface.get_signing_serializer(app).loads(value))


def test_cookie_is_httponly_and_samesite_lax(app, client, alpha):
    cookie = session_cookie(log_in(client, alpha.owner_email), app)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain HTTP in this configuration


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_cookie_is_secure_when_configured(app, client, alpha):
    cookie = session_cookie(log_in(client, alpha.owner_email, base_url="https://localhost/"), app)
    assert cookie["secure"] is True and cookie["httponly"] is True


def test_login_starts_a_new_session(app, client, alpha):
    csrf_token(client)  # the log-in page opens a pre-login session
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert "csrf_token" in decoded(app, before)
    log_in(client, alpha.owner_email)
    after = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert after != before
    assert decoded(app, before)["csrf_token"] not in decoded(app, after).values()
    assert client.get("/t/alpha/").status_code == 200


def test_pre_login_session_grants_nothing(app, client, alpha):
    name = app.config["SESSION_COOKIE_NAME"]
    csrf_token(client)
    planted = client.get_cookie(name).value  # what an attacker could have fixed in the victim's browser
    log_in(client, alpha.owner_email)
    attacker = app.test_client()
    attacker.set_cookie(name, planted)
    response = attacker.get("/t/alpha/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert attacker.get("/t/alpha/admin/members").status_code == 302


def test_session_of_tenant_a_opens_nothing_in_tenant_b(client, alpha, bravo):
    log_in(client, alpha.owner_email)
    assert client.get("/t/alpha/").status_code == 200
    b_pages = [
        "/t/bravo/", "/t/bravo/contacts", "/t/bravo/admin/members", "/t/bravo/admin/tokens",
        f"/t/bravo/contacts/{bravo.contact.id}", f"/t/bravo/admin/roles/{bravo.role.id}",
    ]
    for path in b_pages:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Bravo" not in response.get_data(as_text=True), path


def test_log_out_ends_every_copy_of_the_session(app, client, alpha):
    name = app.config["SESSION_COOKIE_NAME"]
    log_in(client, alpha.owner_email)
    stolen = client.get_cookie(name).value
    thief = app.test_client()
    thief.set_cookie(name, stolen)
    assert thief.get("/t/alpha/").status_code == 200  # a copied cookie works while the session lives
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/t/alpha/").status_code == 302
    response = thief.get("/t/alpha/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
