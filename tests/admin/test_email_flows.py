"""Sign-up, invitations and password resets, with mail delivered to a real local SMTP server."""
from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from rapport.db import db
from rapport.models import Membership, Role, Tenant
from rapport.provisioning import user_by_email
from tests.conftest import PASSWORD
from tests.livesupport import body_of

from .conftest import BASE_URL, link_in

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "BASE_URL": BASE_URL}


def later(monkeypatch, seconds: int) -> None:
    """Move the clock of signed links ``seconds`` forward."""
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + seconds)


def signup(client, **overrides):
    data = {"name": "Initech", "slug": "initech", "email": "peter@initech.example", "password": PASSWORD}
    data.update(overrides)
    return client.post("/signup", data=data)


# -- sign-up ----------------------------------------------------------------------------------------
def test_signup_creates_the_tenant_and_lands_in_it(client, scoped):
    response = signup(client)
    assert response.status_code == 302 and response.headers["Location"] == "/t/initech/"
    assert client.get("/t/initech/").status_code == 200
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "initech"))
    with scoped(tenant):
        owner = db.session.scalar(select(Membership))
        assert owner.role.key == "owner" and owner.user.email == "peter@initech.example"
        assert sorted(db.session.scalars(select(Role.key))) == ["admin", "agent", "manager", "owner", "viewer"]


@pytest.mark.parametrize(
    "overrides, field, reason",
    [
        ({"slug": "Not A Slug!"}, "slug", "lower-case letters"),
        ({"slug": "-edge"}, "slug", "lower-case letters"),
        ({"slug": "admin"}, "slug", "lower-case letters"),
        ({"slug": "acme"}, "slug", "This address is taken."),
        ({"password": "short"}, "password", "at least 10 characters"),
        ({"email": "nobody"}, "email", "valid email"),
        ({"name": "  "}, "name", "name"),
    ],
)
def test_signup_refuses_bad_input_with_the_field(client, world, overrides, field, reason):
    world.tenant("acme")
    response = signup(client, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="e-{field}"' in html and reason.lower() in html.lower()
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "initech")) is None
    assert user_by_email("peter@initech.example") is None


# -- invitations ------------------------------------------------------------------------------------
def invite(owner_client, scoped, acme, email, role="agent"):
    with scoped(acme):
        role_id = db.session.scalar(select(Role.id).where(Role.key == role))
    response = owner_client.post("/t/acme/admin/members", data={"email": email, "role_id": role_id})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_an_invitation_arrives_by_smtp_and_lets_the_colleague_in_once(app, owner_client, smtp_server, acme, scoped):
    invite(owner_client, scoped, acme, "colleague@example.com", role="manager")
    message = smtp_server.inbox.wait_for("colleague@example.com")
    assert "Acme" in message["Subject"]
    assert "as Manager" in body_of(message)
    link = link_in(message)
    assert link.startswith("/t/acme/invite/")

    colleague = app.test_client()
    assert colleague.get(link).status_code == 200
    weak = colleague.post(link, data={"name": "Col", "password": "short"})
    assert weak.status_code == 422 and 'id="e-password"' in weak.get_data(as_text=True)
    joined = colleague.post(link, data={"name": "Col League", "password": NEW_PASSWORD})
    assert joined.status_code == 302 and joined.headers["Location"] == "/t/acme/"
    assert colleague.get("/t/acme/").status_code == 200
    assert "Col League" in colleague.get("/t/acme/").get_data(as_text=True)

    db.session.expire_all()
    with scoped(acme):
        member = db.session.scalar(select(Membership).where(Membership.user_id == user_by_email("colleague@example.com").id))
        assert (member.status, member.role.key) == ("active", "manager")
    assert colleague.get(link).status_code == 410
    assert app.test_client().post(link, data={"password": "another password!"}).status_code == 410
    fresh = app.test_client()
    fresh.post("/login", data={"email": "colleague@example.com", "password": NEW_PASSWORD})
    assert fresh.get("/t/acme/").status_code == 200


def test_an_existing_account_joins_with_its_own_password(app, owner_client, smtp_server, world, acme, scoped):
    world.tenant("globex", owner_email="boss@globex.example")
    invite(owner_client, scoped, acme, "boss@globex.example", role="viewer")
    link = link_in(smtp_server.inbox.wait_for("boss@globex.example"))
    stranger = app.test_client()
    assert stranger.post(link, data={}).status_code == 422  # the link alone does not log anyone in
    assert stranger.post(link, data={"password": "wrong password!"}).status_code == 422
    assert stranger.get("/t/acme/").status_code == 302
    joined = stranger.post(link, data={"password": PASSWORD})
    assert joined.status_code == 302 and stranger.get("/t/acme/").status_code == 200


def test_a_logged_in_invitee_joins_with_one_click(app, owner_client, smtp_server, world, acme, scoped):
    world.tenant("globex", owner_email="boss@globex.example")
    invite(owner_client, scoped, acme, "boss@globex.example")
    link = link_in(smtp_server.inbox.wait_for("boss@globex.example"))
    boss = app.test_client()
    world.login(boss, "boss@globex.example")
    assert boss.post(link, data={}).status_code == 302
    assert boss.get("/t/acme/").status_code == 200


def test_an_expired_or_foreign_invitation_link_fails(app, owner_client, smtp_server, world, acme, scoped, monkeypatch):
    invite(owner_client, scoped, acme, "late@example.com")
    link = link_in(smtp_server.inbox.wait_for("late@example.com"))
    world.tenant("globex")
    assert app.test_client().get(link.replace("/t/acme/", "/t/globex/")).status_code == 410
    assert app.test_client().get(link + "x").status_code == 410
    later(monkeypatch, app.config["INVITE_MAX_AGE"] + 1)
    assert app.test_client().get(link).status_code == 410


def test_a_removed_invitation_no_longer_works(app, owner_client, smtp_server, acme, scoped):
    invite(owner_client, scoped, acme, "gone@example.com")
    link = link_in(smtp_server.inbox.wait_for("gone@example.com"))
    with scoped(acme):
        member = db.session.scalar(select(Membership).where(Membership.status == "invited"))
    owner_client.post(f"/t/acme/admin/members/{member.id}/remove")
    assert app.test_client().get(link).status_code == 410


# -- password reset ----------------------------------------------------------------------------------
def ask_for_reset(app, smtp_server, email="owner@acme.test") -> str:
    response = app.test_client().post("/forgot", data={"email": email})
    assert response.status_code == 200
    return link_in(smtp_server.inbox.wait_for(email))


def test_a_reset_link_arrives_and_works_once(app, smtp_server, world, acme):
    link = ask_for_reset(app, smtp_server)
    assert link.startswith("/reset/")
    browser = app.test_client()
    assert browser.get(link).status_code == 200
    assert browser.post(link, data={"password": "short"}).status_code == 422
    assert browser.post(link, data={"password": NEW_PASSWORD}).status_code == 302
    assert browser.get(link).status_code == 410
    assert app.test_client().post(link, data={"password": "yet another passphrase"}).status_code == 410
    assert app.test_client().post("/login", data={"email": "owner@acme.test", "password": PASSWORD}).status_code == 401
    world.login(app.test_client(), "owner@acme.test", NEW_PASSWORD)


def test_an_expired_reset_link_fails(app, smtp_server, acme, monkeypatch):
    link = ask_for_reset(app, smtp_server)
    later(monkeypatch, app.config["RESET_MAX_AGE"] + 1)
    browser = app.test_client()
    assert browser.get(link).status_code == 410
    assert browser.post(link, data={"password": NEW_PASSWORD}).status_code == 410
    assert browser.post("/login", data={"email": "owner@acme.test", "password": PASSWORD}).status_code == 302


def test_forgot_answers_the_same_for_unknown_accounts_and_sends_nothing(app, smtp_server, acme):
    known = app.test_client().post("/forgot", data={"email": "owner@acme.test"}).get_data(as_text=True)
    unknown = app.test_client().post("/forgot", data={"email": "nobody@acme.test"}).get_data(as_text=True)
    assert known == unknown
    assert [m["To"] for m in smtp_server.inbox.messages] == ["owner@acme.test"]


def test_without_a_mail_server_mail_lands_in_the_instance_folder(app, smtp_server, world, acme):
    app.config["MAIL_SERVER"] = None  # the embedded default: no SMTP configured
    assert app.test_client().post("/forgot", data={"email": "owner@acme.test"}).status_code == 200
    [eml] = (Path(app.instance_path) / "mail").glob("*.eml")
    message = message_from_bytes(eml.read_bytes())
    assert message["To"] == "owner@acme.test" and smtp_server.inbox.messages == []
    link = link_in(message)
    assert app.test_client().post(link, data={"password": NEW_PASSWORD}).status_code == 302


def test_a_line_break_in_the_tenant_name_cannot_add_mail_headers(app, client, smtp_server, world, scoped):
    tenant = world.tenant("evil", owner_email="owner@evil.example", name="Evil\nBcc: victim@example.com")
    world.login(client, "owner@evil.example")
    with scoped(tenant):
        role_id = db.session.scalar(select(Role.id).where(Role.key == "agent"))
    assert client.post("/t/evil/admin/members", data={"email": "new@example.com", "role_id": role_id}).status_code == 302
    message = smtp_server.inbox.wait_for("new@example.com")
    assert message["Bcc"] is None and "Evil Bcc: victim@example.com" in message["Subject"]
    assert [m["To"] for m in smtp_server.inbox.messages] == ["new@example.com"]
