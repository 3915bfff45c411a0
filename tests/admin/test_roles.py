"""Roles page: built-in roles read-only, custom roles as named sets of registry permissions."""
from __future__ import annotations

import re

from sqlalchemy import select

from rapport.db import db
from rapport.models import Membership, Role

ROLES = "/t/acme/admin/roles"


def custom_role(scoped, tenant, name):
    with scoped(tenant):
        return db.session.scalar(select(Role).where(Role.name == name))


def builtin_role(scoped, tenant, key):
    with scoped(tenant):
        return db.session.scalar(select(Role).where(Role.key == key, Role.builtin.is_(True)))


def panel(html: str, anchor: str) -> str:
    return re.search(rf'<section class="panel" id="{anchor}">(.*?)</section>', html, re.S).group(1)


def create(client, name, *permissions):
    return client.post(f"{ROLES}/new", data={"name": name, "permissions": list(permissions)})


def test_builtin_roles_are_listed_read_only_with_their_permissions(owner_client, acme, scoped, app):
    html = owner_client.get(ROLES).get_data(as_text=True)
    host = app.extensions["rapport.plugins"]
    for key in ("owner", "admin", "manager", "agent", "viewer"):
        shown = set(re.findall(r"<code>([a-z_.]+)</code>", panel(html, f"role-{key}")))
        assert shown == set(host.role_permissions(key)), key
    assert "members.manage" not in panel(html, "role-agent")
    admin = builtin_role(scoped, acme, "admin")
    assert owner_client.get(f"{ROLES}/{admin.id}").status_code == 404
    assert owner_client.post(f"{ROLES}/{admin.id}", data={"name": "Boss", "permissions": ["records.read"]}).status_code == 404
    assert owner_client.post(f"{ROLES}/{admin.id}/delete").status_code == 404
    assert builtin_role(scoped, acme, "admin").name == "Admin"


def test_the_form_offers_core_and_plugin_permissions_with_labels(owner_client, app):
    html = owner_client.get(f"{ROLES}/new").get_data(as_text=True)
    for perm in app.extensions["rapport.plugins"].permissions.values():
        assert f'value="{perm.name}"' in html
    assert "View reports" in html and "Read the audit log" in html  # a plugin's label and a core one


def test_a_custom_role_grants_exactly_its_permissions(owner_client, client, world, acme, scoped, app):
    assert create(owner_client, "Auditor", "audit.read", "records.read", "reports.view").status_code == 302
    role = custom_role(scoped, acme, "Auditor")
    assert not role.builtin and sorted(role.permissions) == ["audit.read", "records.read", "reports.view"]
    member = world.member(acme, "aud@acme.test", "viewer")
    with scoped(acme):
        db.session.get(Membership, (acme.id, member.id)).role_id = role.id
        db.session.commit()
    auditor = app.test_client()
    world.login(auditor, "aud@acme.test")
    assert auditor.get("/t/acme/admin/audit").status_code == 200
    assert auditor.get("/t/acme/admin/members").status_code == 403
    html = owner_client.get(ROLES).get_data(as_text=True)
    assert "Auditor" in panel(html, f"role-{role.id}") and "1 member(s)" in panel(html, f"role-{role.id}")


def test_unknown_permissions_and_bad_names_are_refused(owner_client, acme, scoped):
    response = create(owner_client, "Hacker", "records.read", "root.everything")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-permissions"' in html and "root.everything" in html
    assert 'value="Hacker"' in html
    blank = create(owner_client, "   ", "records.read")
    assert blank.status_code == 422 and 'id="e-name"' in blank.get_data(as_text=True)
    builtin_name = create(owner_client, "admin", "records.read")
    assert builtin_name.status_code == 422 and "A role with this name exists." in builtin_name.get_data(as_text=True)
    too_long = create(owner_client, "x" * 101)
    assert too_long.status_code == 422 and 'id="e-name"' in too_long.get_data(as_text=True)
    with scoped(acme):
        assert db.session.scalars(select(Role).where(Role.builtin.is_(False))).all() == []


def test_edit_changes_what_holders_may_do_on_their_next_request(owner_client, world, acme, scoped, app):
    create(owner_client, "Helper", "records.read")
    role = custom_role(scoped, acme, "Helper")
    member = world.member(acme, "help@acme.test", "viewer")
    with scoped(acme):
        db.session.get(Membership, (acme.id, member.id)).role_id = role.id
        db.session.commit()
    helper = app.test_client()
    world.login(helper, "help@acme.test")
    assert helper.get("/t/acme/admin/plugins").status_code == 403
    edit = owner_client.post(f"{ROLES}/{role.id}", data={"name": "Plugin helper", "permissions": ["records.read", "plugins.manage"]})
    assert edit.status_code == 302
    assert helper.get("/t/acme/admin/plugins").status_code == 200
    db.session.expire_all()
    assert custom_role(scoped, acme, "Plugin helper").permissions == ["plugins.manage", "records.read"]


def test_a_role_in_use_cannot_be_deleted(owner_client, world, acme, scoped):
    create(owner_client, "Temp", "records.read")
    role = custom_role(scoped, acme, "Temp")
    member = world.member(acme, "t@acme.test", "viewer")
    with scoped(acme):
        db.session.get(Membership, (acme.id, member.id)).role_id = role.id
        db.session.commit()
    refused = owner_client.post(f"{ROLES}/{role.id}/delete")
    assert refused.status_code == 409 and "held by 1 member(s)" in refused.get_data(as_text=True)
    assert custom_role(scoped, acme, "Temp") is not None
    owner_client.post(f"/t/acme/admin/members/{member.id}/role", data={"role_id": builtin_role(scoped, acme, "viewer").id})
    assert owner_client.post(f"{ROLES}/{role.id}/delete").status_code == 302
    db.session.expire_all()
    assert custom_role(scoped, acme, "Temp") is None


def test_a_role_held_only_by_former_members_can_be_deleted(owner_client, world, acme, scoped):
    create(owner_client, "Old", "records.read")
    role = custom_role(scoped, acme, "Old")
    member = world.member(acme, "gone@acme.test", "viewer")
    with scoped(acme):
        row = db.session.get(Membership, (acme.id, member.id))
        row.role_id, row.status = role.id, "removed"
        db.session.commit()
    assert owner_client.post(f"{ROLES}/{role.id}/delete").status_code == 302
    db.session.expire_all()
    with scoped(acme):
        assert db.session.get(Membership, (acme.id, member.id)).role.key == "viewer"


def test_nobody_grants_permissions_they_do_not_hold(owner_client, client, world, acme, scoped):
    create(owner_client, "People", "members.manage", "roles.manage", "records.read")
    member = world.member(acme, "hr@acme.test", "viewer")
    with scoped(acme):
        db.session.get(Membership, (acme.id, member.id)).role_id = custom_role(scoped, acme, "People").id
        db.session.commit()
    world.login(client, "hr@acme.test")
    wider = create(client, "Wider", "audit.read")
    assert wider.status_code == 422 and "permissions you hold" in wider.get_data(as_text=True)
    sam = world.member(acme, "sam@acme.test", "viewer")
    promote = client.post(f"/t/acme/admin/members/{sam.id}/role", data={"role_id": builtin_role(scoped, acme, "admin").id})
    assert promote.status_code == 422
    db.session.expire_all()
    with scoped(acme):
        assert db.session.get(Membership, (acme.id, sam.id)).role.key == "viewer"
