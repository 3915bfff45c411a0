"""Members page: list, invite, re-send, change role, remove, and the rules that protect owners."""
from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select

from rapport.db import db
from rapport.models import AuditEvent, Membership, Role, User
from rapport.provisioning import user_by_email
from tests.livesupport import free_port

MEMBERS = "/t/acme/admin/members"


def membership(scoped, tenant, email):
    with scoped(tenant):
        user = user_by_email(email)
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def role_id(scoped, tenant, key):
    with scoped(tenant):
        return db.session.scalar(select(Role.id).where(Role.key == key))


def outbox(app) -> list:
    folder = Path(app.instance_path) / "mail"
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def test_list_shows_members_with_role_and_status_and_escapes_names(owner_client, world, acme):
    world.member(acme, "x@acme.test", "agent", name="<b>x</b>")
    page = owner_client.get(MEMBERS)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "<td>owner@acme.test</td>" in html and "<td>x@acme.test</td>" in html
    assert "Agent" in html and "Active" in html


def test_invite_creates_passwordless_user_and_invited_membership_and_mails_link(app, owner_client, acme, scoped):
    response = owner_client.post(MEMBERS, data={"email": "New.Person@Example.COM", "role_id": role_id(scoped, acme, "manager")})
    assert response.status_code == 302
    user = user_by_email("new.person@example.com")
    assert user is not None and user.password_hash is None and user.email == "new.person@example.com"
    member = membership(scoped, acme, "new.person@example.com")
    assert member.status == "invited" and member.role.key == "manager"
    [message] = outbox(app)
    assert message["To"] == "new.person@example.com"
    assert "/t/acme/invite/" in message.get_content()
    listing = owner_client.get(MEMBERS).get_data(as_text=True)
    assert "new.person@example.com" in listing and "Invited" in listing


def test_invite_with_a_bad_email_names_the_field_and_writes_nothing(app, owner_client, acme, scoped):
    response = owner_client.post(MEMBERS, data={"email": "not an email", "role_id": role_id(scoped, acme, "agent")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-email"' in html and "not a valid email address" in html
    assert 'value="not an email"' in html  # what was typed is shown again
    assert db.session.scalar(select(User).where(User.email == "not an email")) is None
    assert not (Path(app.instance_path) / "mail").exists()


def test_invite_with_an_unknown_role_is_refused(owner_client, acme):
    response = owner_client.post(MEMBERS, data={"email": "a@b.example", "role_id": "not-a-uuid"})
    assert response.status_code == 422
    assert 'id="e-role_id"' in response.get_data(as_text=True)
    assert user_by_email("a@b.example") is None


def test_inviting_an_existing_member_is_a_clear_error(owner_client, world, acme, scoped):
    world.member(acme, "sam@example.com", "agent")
    agent = role_id(scoped, acme, "agent")
    response = owner_client.post(MEMBERS, data={"email": "SAM@example.com", "role_id": agent})
    assert response.status_code == 422
    assert "sam@example.com is already a member of this workspace." in response.get_data(as_text=True)
    owner_client.post(MEMBERS, data={"email": "kim@example.com", "role_id": agent})
    again = owner_client.post(MEMBERS, data={"email": "kim@example.com", "role_id": agent})
    assert again.status_code == 422 and "already invited" in again.get_data(as_text=True)


def test_invite_of_a_user_from_another_tenant_reuses_the_account(owner_client, world, acme, scoped):
    other = world.tenant("globex", owner_email="boss@globex.example")
    response = owner_client.post(MEMBERS, data={"email": "boss@globex.example", "role_id": role_id(scoped, acme, "viewer")})
    assert response.status_code == 302
    assert len(db.session.scalars(select(User).where(User.email == "boss@globex.example")).all()) == 1
    assert membership(scoped, acme, "boss@globex.example").status == "invited"
    assert membership(scoped, other, "boss@globex.example").status == "active"


def test_resend_mails_the_invitation_again(app, owner_client, acme, scoped):
    owner_client.post(MEMBERS, data={"email": "kim@example.com", "role_id": role_id(scoped, acme, "agent")})
    member = membership(scoped, acme, "kim@example.com")
    assert owner_client.post(f"{MEMBERS}/{member.id}/resend").status_code == 302
    assert [m["To"] for m in outbox(app)] == ["kim@example.com", "kim@example.com"]


def test_resend_to_an_active_member_is_refused(owner_client, world, acme):
    sam = world.member(acme, "sam@example.com", "agent")
    response = owner_client.post(f"{MEMBERS}/{sam.id}/resend")
    assert response.status_code == 409 and "already joined" in response.get_data(as_text=True)


def test_change_role_is_saved_and_audited(owner_client, world, acme, scoped):
    sam = world.member(acme, "sam@example.com", "agent")
    response = owner_client.post(f"{MEMBERS}/{sam.id}/role", data={"role_id": role_id(scoped, acme, "manager")})
    assert response.status_code == 302
    db.session.expire_all()
    assert membership(scoped, acme, "sam@example.com").role.key == "manager"
    with scoped(acme):
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.record_id == sam.id))
    assert event.record_type == "memberships" and event.changes == {"role": ["agent", "manager"]}
    assert event.actor_label == "owner@acme.test"


def test_an_admin_cannot_demote_remove_or_create_an_owner(client, world, acme, scoped):
    world.member(acme, "ada@acme.test", "admin")
    sam = world.member(acme, "sam@example.com", "agent")
    owner = membership(scoped, acme, "owner@acme.test")
    world.login(client, "ada@acme.test")
    demote = client.post(f"{MEMBERS}/{owner.id}/role", data={"role_id": role_id(scoped, acme, "agent")})
    assert demote.status_code == 403 and "Only an owner" in demote.get_data(as_text=True)
    remove = client.post(f"{MEMBERS}/{owner.id}/remove")
    assert remove.status_code == 403
    promote = client.post(f"{MEMBERS}/{sam.id}/role", data={"role_id": role_id(scoped, acme, "owner")})
    assert promote.status_code == 422
    invite = client.post(MEMBERS, data={"email": "new@example.com", "role_id": role_id(scoped, acme, "owner")})
    assert invite.status_code == 422 and "Only an owner can make someone an owner." in invite.get_data(as_text=True)
    db.session.expire_all()
    assert membership(scoped, acme, "owner@acme.test").status == "active"
    assert membership(scoped, acme, "owner@acme.test").role.key == "owner"
    assert membership(scoped, acme, "sam@example.com").role.key == "agent"


def test_the_last_owner_can_neither_leave_nor_step_down(owner_client, acme, scoped):
    me = membership(scoped, acme, "owner@acme.test")
    leave = owner_client.post(f"{MEMBERS}/{me.id}/remove")
    assert leave.status_code == 409 and "You are the last owner" in leave.get_data(as_text=True)
    step_down = owner_client.post(f"{MEMBERS}/{me.id}/role", data={"role_id": role_id(scoped, acme, "admin")})
    assert step_down.status_code == 409
    db.session.expire_all()
    me = membership(scoped, acme, "owner@acme.test")
    assert (me.status, me.role.key) == ("active", "owner")


def test_an_owner_may_leave_when_another_owner_remains(owner_client, world, acme, scoped):
    world.member(acme, "second@acme.test", "owner")
    me = membership(scoped, acme, "owner@acme.test")
    response = owner_client.post(f"{MEMBERS}/{me.id}/remove")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert owner_client.get("/t/acme/").status_code == 404  # no longer a member


def test_removed_member_loses_access_leaves_the_list_and_can_be_invited_again(client, owner_client, world, acme, scoped, app):
    sam = world.member(acme, "sam@example.com", "agent")
    assert owner_client.post(f"{MEMBERS}/{sam.id}/remove").status_code == 302
    db.session.expire_all()
    assert membership(scoped, acme, "sam@example.com").status == "removed"
    assert "<td>sam@example.com</td>" not in owner_client.get(MEMBERS).get_data(as_text=True)
    other = app.test_client()
    world.login(other, "sam@example.com")
    assert other.get("/t/acme/").status_code == 404
    again = owner_client.post(MEMBERS, data={"email": "sam@example.com", "role_id": role_id(scoped, acme, "viewer")})
    assert again.status_code == 302
    db.session.expire_all()
    revived = membership(scoped, acme, "sam@example.com")
    assert (revived.id, revived.status, revived.role.key) == (sam.id, "invited", "viewer")


def test_another_tenants_member_is_not_found(owner_client, world, acme):
    globex = world.tenant("globex")
    stranger = world.member(globex, "x@globex.test", "agent")
    assert owner_client.post(f"{MEMBERS}/{stranger.id}/remove").status_code == 404
    assert owner_client.post(f"/t/globex/admin/members/{stranger.id}/remove").status_code == 404


def test_an_unreachable_mail_server_keeps_the_invitation_for_a_resend(app, owner_client, acme, scoped):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    response = owner_client.post(MEMBERS, data={"email": "kim@example.com", "role_id": role_id(scoped, acme, "agent")})
    assert response.status_code == 302
    page = owner_client.get(MEMBERS).get_data(as_text=True)
    assert "the email could not be sent" in page and "Re-send invitation" in page
    assert membership(scoped, acme, "kim@example.com").status == "invited"
