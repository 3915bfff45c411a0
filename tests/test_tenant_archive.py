"""A tenant exported, deleted and restored into a fresh database is the same tenant, and no other
tenant changes on the way: records, custom fields and values, stage history, audit log, plugin
switches and settings, API tokens, plugin tables (lead-capture forms and submissions)."""
from __future__ import annotations

import copy
import os
import uuid

import pytest
from flask import g
from sqlalchemy import select

from plugins.lead_capture.models import LeadForm, Submission
from rapport import crm, tenancy
from rapport.db import db, make_engine
from rapport.fields.definitions import create_definition
from rapport.migrate import upgrade
from rapport.models import Membership, Tenant
from rapport.pipeline import Actor
from rapport.plugin_host import current_host, save_plugin_settings, set_plugin_enabled
from rapport.tokens import create_token, find_token
from tenants import archive
from tenants.lifecycle import delete_tenant
from tests.conftest import create_postgres_database, drop_postgres_database, postgres_server_url

ACTOR = Actor("operator", None, "archive test", "cli")


def build(world, slug: str, marker: str) -> Tenant:
    tenant = world.tenant(slug, owner_email=f"owner@{slug}.test")
    world.member(tenant, f"agent@{slug}.test", "agent")
    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        create_definition(tenant, "contacts", {"key": "tier", "label": "Tier <b>", "type": "select", "filterable": True,
                                               "options": [{"value": "gold", "label": "Gold"}]}, ACTOR)
        create_definition(tenant, "leads", {"key": "budget", "label": "Budget", "type": "number", "filterable": True,
                                            "config": {"decimals": 2}}, ACTOR)
        account = crm.create("accounts", {"name": f"{marker} Ltd", "industry": "Retail"}, ACTOR)
        crm.create("contacts", {"first_name": "伟", "last_name": marker, "email": f"wei@{slug}.test",
                                "account_id": account.id, "custom": {"tier": "gold"}}, ACTOR)
        lead = crm.create("leads", {"name": f"{marker} lead 😀", "value": "1234.50", "custom": {"budget": 99.5}}, ACTOR)
        crm.update(lead, {"stage": "prospect"}, ACTOR)
        crm.create("activities", {"kind": "task", "subject": "Call back", "lead_id": lead.id,
                                  "due_at": "2027-01-02T10:00:00+00:00"}, ACTOR)
        host = current_host()
        set_plugin_enabled(host, tenant, "reports", True)
        save_plugin_settings(host, "reports", {"default_period_days": 14})
        set_plugin_enabled(host, tenant, "lead_capture", True)
        owner = db.session.scalar(select(Membership).order_by(Membership.id))
        form = LeadForm(slug="contact", name="Contact", fields=[{"key": "email", "label": None, "required": True}],
                        published=True, default_owner_id=owner.id)
        db.session.add(form)
        db.session.flush()
        db.session.add(Submission(form_id=form.id, dedupe_key="k1", data={"email": "x@y.test"}, lead_id=lead.id,
                                  utm={"utm_source": "ads"}, status="processed"))
        db.session.commit()
        _row, secret = create_token(owner, "integration")
        db.session.commit()
    tenant.token = secret
    return tenant


def export(session, tenant_id) -> dict:
    data = archive.export_tenant(session, tenant_id)
    data.pop("exported_at")
    return data


@pytest.fixture
def fresh_session(tmp_path):
    """A session on a new, migrated database (of the same kind as the suite's)."""
    server = postgres_server_url()
    name = f"rapport_restore_{uuid.uuid4().hex[:8]}"
    if server:
        _owner, url = create_postgres_database(server, name)
    else:
        url = f"sqlite:///{tmp_path / 'restored.db'}"
        upgrade(url)
    engine = make_engine(url)
    session = db.factory(bind=engine)
    try:
        yield session
    finally:
        session.close()
        engine.dispose()
        if server:
            drop_postgres_database(server, name)


def test_export_delete_restore_gives_the_same_tenant(world, fresh_session, tmp_path):
    alpha = build(world, "alpha", "ALPHAMARK")
    beta = build(world, "beta", "BETAMARK")
    before = export(db.session, alpha.id)
    beta_before = export(db.session, beta.id)
    assert {"contacts", "leads", "lead_stage_changes", "activities", "audit_events", "field_definitions",
            "custom_values", "plugin_states", "api_tokens", "lead_capture_forms", "lead_capture_submissions"} <= {
        name for name, rows in before["tables"].items() if rows}
    assert "BETAMARK" not in str(before) and "ALPHAMARK" not in str(beta_before)

    path = tmp_path / "alpha.json.gz"
    archive.write_archive(archive.export_tenant(db.session, alpha.id), path)
    delete_tenant(alpha)
    db.session.commit()
    assert export(db.session, beta.id) == beta_before  # deleting alpha left beta as it was

    restored_id = archive.restore_tenant(fresh_session, archive.read_archive(path))
    assert restored_id == alpha.id
    assert export(fresh_session, alpha.id) == before


def test_restored_tenant_works_again_where_it_was_deleted(world, client, tmp_path):
    alpha = build(world, "alpha", "ALPHAMARK")
    data = archive.export_tenant(db.session, alpha.id)
    delete_tenant(alpha)
    db.session.commit()
    assert client.get(f"/t/alpha/api/v1/leads", headers={"Authorization": f"Bearer {alpha.token}"}).status_code == 404
    archive.restore_tenant(db.session, copy.deepcopy(data))
    response = client.get("/t/alpha/api/v1/leads", headers={"Authorization": f"Bearer {alpha.token}"})
    assert response.status_code == 200
    assert [item["name"] for item in response.json["items"]] == ["ALPHAMARK lead 😀"]
    world.login(client, "owner@alpha.test")  # the owner's password came back with the user
    assert "ALPHAMARK Ltd" in client.get("/t/alpha/accounts").get_data(as_text=True)


def test_restore_refuses_an_existing_tenant_or_another_schema(world):
    alpha = build(world, "alpha", "ALPHAMARK")
    data = archive.export_tenant(db.session, alpha.id)
    with pytest.raises(archive.ArchiveError, match="already exists"):
        archive.restore_tenant(db.session, copy.deepcopy(data))
    db.session.rollback()
    older = {**data, "schema": ["0001_core"]}
    with pytest.raises(archive.ArchiveError, match="same version of Rapport"):
        archive.restore_tenant(db.session, older)


def test_an_existing_user_keeps_their_account(world, fresh_session):
    alpha = build(world, "alpha", "ALPHAMARK")
    data = archive.export_tenant(db.session, alpha.id)
    agent = next(u for u in data["users"] if u["email"] == "agent@alpha.test")
    other = {**agent, "id": str(uuid.uuid4()), "name": "Already here"}
    from rapport.models import User

    fresh_session.execute(User.__table__.insert().values(
        **{c.name: archive._load(c, other.get(c.name)) for c in User.__table__.c}))
    fresh_session.commit()
    archive.restore_tenant(fresh_session, data)
    with tenancy.tenant_scope(alpha.id):
        members = fresh_session.scalars(select(Membership.user_id)).all()
    assert uuid.UUID(other["id"]) in members and uuid.UUID(agent["id"]) not in members


def test_cli_export_and_restore(world, runner, tmp_path):
    alpha = build(world, "alpha", "ALPHAMARK")
    path = tmp_path / "alpha.json.gz"
    result = runner.invoke(args=["tenants", "export", "alpha", str(path)])
    assert result.exit_code == 0, result.output
    assert "exported alpha" in result.output
    result = runner.invoke(args=["tenants", "restore", str(path)])
    assert result.exit_code != 0 and "already exists" in result.output
    delete_tenant(alpha)
    db.session.commit()
    result = runner.invoke(args=["tenants", "restore", str(path)])
    assert result.exit_code == 0, result.output
    with tenancy.tenant_scope(alpha.id):
        assert find_token(alpha.token) is not None
    (tmp_path / "junk.gz").write_bytes(b"not gzip")
    result = runner.invoke(args=["tenants", "restore", str(tmp_path / "junk.gz")])
    assert result.exit_code != 0 and "not a Rapport tenant archive" in result.output
