"""The record service and list queries, used by UI, API and import alike."""
import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from rapport import crm, listing, tenancy
from rapport.db import db
from rapport.models import AuditEvent, LeadStageChange, Membership
from rapport.pipeline import Actor, grant

ACTOR = Actor("member", None, "tester", "web")


@pytest.fixture
def acme(world):
    tenant = world.tenant("acme")
    from flask import g

    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        yield tenant


def owner_member():
    return grant(db.session.scalar(select(Membership)))


def test_create_contact_validates_and_audits(acme):
    account = crm.create("accounts", {"name": "Northwind"}, ACTOR)
    contact = crm.create("contacts", {"first_name": " Nancy ", "email": "nancy@example.com", "account_id": str(account.id)}, ACTOR)
    assert contact.first_name == "Nancy" and contact.account_id == account.id
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.record_id == contact.id)).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].changes["email"] == [None, "nancy@example.com"]


def test_bad_input_names_the_field(acme):
    with pytest.raises(ValidationError) as exc:
        crm.create("contacts", {"email": "not-an-email", "tenant_id": "x"}, ACTOR)
    assert set(exc.value.messages) >= {"email", "tenant_id", "last_name"}


def test_reference_to_unknown_account_is_refused(acme):
    import uuid

    with pytest.raises(ValidationError) as exc:
        crm.create("contacts", {"last_name": "Doe", "account_id": str(uuid.uuid4())}, ACTOR)
    assert "account_id" in exc.value.messages


def test_stage_changes_are_kept_with_author(acme):
    lead = crm.create("leads", {"name": "Janet"}, ACTOR)
    crm.update(lead, {"stage": "prospect"}, ACTOR)
    crm.update(lead, {"stage": "opportunity"}, ACTOR)
    history = db.session.scalars(select(LeadStageChange).order_by(LeadStageChange.changed_at, LeadStageChange.id)).all()
    assert [(h.from_stage, h.to_stage) for h in history] == [(None, "target"), ("target", "prospect"), ("prospect", "opportunity")]
    assert all(h.changed_by == "tester" for h in history)


def test_update_records_old_and_new_values(acme):
    account = crm.create("accounts", {"name": "Old"}, ACTOR)
    crm.update(account, {"name": "New"}, ACTOR)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.changes == {"name": ["Old", "New"]}


def test_delete_account_keeps_contacts(acme):
    account = crm.create("accounts", {"name": "Gone"}, ACTOR)
    contact = crm.create("contacts", {"last_name": "Stays", "account_id": str(account.id)}, ACTOR)
    crm.delete(account, ACTOR)
    db.session.commit()
    db.session.refresh(contact)
    assert contact.account_id is None and contact.tenant_id == acme.id


def test_keyset_pages_cover_everything_once(acme):
    member = owner_member()
    for i in range(23):
        crm.create("accounts", {"name": f"Account {i:02d}"}, ACTOR)
    seen, cursor = [], None
    while True:
        args = {"limit": "5", "sort": "-name"}
        if cursor:
            args["cursor"] = cursor
        page = listing.fetch("accounts", args, member)
        seen += [a.name for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted((f"Account {i:02d}" for i in range(23)), reverse=True)


def test_search_and_bad_list_parameters(acme):
    member = owner_member()
    crm.create("contacts", {"first_name": "王", "last_name": "伟", "phone": "+86 21 5555 0104"}, ACTOR)
    crm.create("contacts", {"first_name": "Ann", "last_name": "Lee", "email": "ann@x.test"}, ACTOR)
    assert [c.last_name for c in listing.fetch("contacts", {"q": "5555"}, member).items] == ["伟"]
    assert [c.last_name for c in listing.fetch("contacts", {"q": "ANN@"}, member).items] == ["Lee"]
    assert listing.fetch("contacts", {"q": "%"}, member).items == []
    for bad in ({"sort": "password"}, {"limit": "0"}, {"cursor": "xx"}, {"owner": "x"}, {"nope": "1"}):
        with pytest.raises(ValidationError):
            listing.fetch("contacts", bad, member)
