"""Once the app has served a tenant, an API call reads the tenant and its bearer token in one query
(the app remembers the tenant's id, so the row-level security setting can go first). Each call still
reads both from the database: a removed member, a suspended tenant or a slug that now names another
tenant shows on the very next call. (A revoked token: tests/api/test_errors.py.)"""
from __future__ import annotations

from sqlalchemy import event, select

from rapport import tenancy
from rapport.db import db
from rapport.models import Membership, Role, Tenant, User
from tests.api.conftest import ApiClient, token_for
from tests.api.test_errors import assert_problem


def statements_of(api, path: str) -> list[str]:
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert api.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_known_tenant_comes_with_the_token_in_one_query(api):
    first = statements_of(api, "/contacts")
    later = statements_of(api, "/contacts")
    reads_tenant = [s for s in later if "FROM tenants" in s]
    assert len(reads_tenant) == 1 and "api_tokens" in reads_tenant[0]
    assert len([s for s in first if "FROM tenants" in s or "FROM api_tokens" in s]) == 2


def test_a_member_removed_after_a_call_is_refused_on_the_next(api, acme):
    assert api.get("/contacts").status_code == 200
    with tenancy.tenant_scope(acme.id):
        db.session.scalar(select(Membership)).status = "removed"
        db.session.commit()
    assert_problem(api.get("/contacts"), 401)


def test_a_tenant_suspended_after_a_call_is_refused_on_the_next(api, acme):
    assert api.get("/contacts").status_code == 200
    tenant = db.session.get(Tenant, acme.id)
    tenant.status, tenant.suspended_reason = "suspended", "Invoice overdue"
    db.session.commit()
    body = assert_problem(api.get("/contacts"), 403)
    assert body["detail"] == "Invoice overdue"  # still known as the tenant's own token


def test_a_slug_that_names_another_tenant_now_is_that_tenant(client, world, api, acme):
    old = api.create("contacts", last_name="Old")
    assert api.get("/contacts").status_code == 200  # the app now remembers acme's id for "acme"
    db.session.get(Tenant, acme.id).slug = "acme-old"
    db.session.commit()
    newcomer = world.tenant("acme", owner_email="owner@new-acme.test")
    fresh = ApiClient(client, "acme", token_for(newcomer, "owner@new-acme.test"))

    assert_problem(api.get("/contacts"), 401)  # the old tenant's token is nothing to the new one
    assert fresh.get("/contacts").get_json()["items"] == []
    assert ApiClient(client, "acme-old", api.token).get("/contacts").get_json()["items"][0]["id"] == old["id"]


def test_a_role_changed_after_a_call_applies_on_the_next(api_as, acme):
    agent = api_as("agent")
    assert agent.post("/accounts", json={"name": "Allowed"}).status_code == 201
    with tenancy.tenant_scope(acme.id):
        viewer = db.session.scalar(select(Role).where(Role.key == "viewer"))
        member = db.session.scalar(select(Membership).join(User, User.id == Membership.user_id)
                                   .where(User.email.startswith("agent")))
        member.role_id = viewer.id
        db.session.commit()
    body = assert_problem(agent.post("/accounts", json={"name": "Refused"}), 403)
    assert "records.write" in body["detail"]
    assert agent.get("/accounts").status_code == 200


def test_an_api_call_acts_as_its_token_member(app, api_as, acme):
    """``g.member`` on an API call is read with the token (plain columns, read-only) and carries what
    a membership does: its id, user, role and granted permissions."""
    agent = api_as("agent")
    seen = {}

    @app.after_request
    def _capture(response):
        from flask import g
        if g.get("api_token") is not None:
            seen.update(member=g.member, actor=g.actor)
        return response

    assert agent.get("/accounts").status_code == 200
    member = seen["member"]
    with tenancy.tenant_scope(acme.id):
        stored = db.session.get(Membership, (acme.id, member.id))
        assert (member.user_id, member.role_id, member.status) == (stored.user_id, stored.role_id, "active")
        assert member.user.email == stored.user.email and member.role.key == "agent"
    assert member.can("records.write") and not member.can("records.view_all")
    assert seen["actor"].label == member.user.email and seen["actor"].type == "token"
