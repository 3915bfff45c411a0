"""Custom fields in CSV import and export: columns, encoding, validation and the round trip."""
from __future__ import annotations

import io

import pytest
from flask import g
from sqlalchemy import delete, select

from rapport import tenancy
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.models import Contact, Membership, User
from rapport.pipeline import Actor
from rapport.transfer.csv_import import FileError, import_csv
from tests.transfer.support import make, parse_csv, records, upload

OPERATOR = Actor.operator()
IMPORTER = Actor("system", None, "test import", "import")


@pytest.fixture
def acme(world):
    tenant = world.tenant("acme")
    for data in (
        {"key": "tier", "label": "Customer tier", "type": "select",
         "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}]},
        {"key": "topics", "label": "Topics", "type": "multi_select",
         "options": [{"value": "crm", "label": "CRM"}, {"value": "erp", "label": "ERP"}]},
        {"key": "vip", "label": "VIP", "type": "boolean"},
        {"key": "balance", "label": "Balance", "type": "number", "config": {"decimals": 2}},
        {"key": "since", "label": "Customer since", "type": "date"},
        {"key": "motto", "label": "Motto", "type": "text"},
        {"key": "secret", "label": "Secret", "type": "text", "roles": ["owner"]},
    ):
        with tenancy.tenant_scope(tenant.id):
            create_definition(tenant, "contacts", data, OPERATOR)
            db.session.commit()
    return tenant


@pytest.fixture
def owner(client, world, acme):
    world.login(client, "owner@acme.test")
    return client


def run_import(tenant, text: str, member=None):
    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        return import_csv(io.BytesIO(text.encode()), "contacts", IMPORTER, member)


def customs(tenant) -> dict[str, dict]:
    db.session.expire_all()
    return {c.last_name: c.custom for c in records(tenant, Contact)}


def test_import_maps_columns_by_key_or_label_and_encodes_lists_and_booleans(acme):
    report = run_import(acme, (
        "last_name,custom.tier,TOPICS,vip,Customer Since,custom.balance,motto\n"
        "Gold,gold,crm; erp,Yes,2026-01-31,-12.50,'=1+1\n"
        "Plain,,,0,,,\n"
        "Chinese,silver,erp,TRUE,,3,你好\n"
    ))
    assert report.errors == [] and report.imported == 3
    assert customs(acme) == {
        "Gold": {"tier": "gold", "topics": ["crm", "erp"], "vip": True, "since": "2026-01-31",
                 "balance": -12.5, "motto": "=1+1"},
        "Plain": {"vip": False},
        "Chinese": {"tier": "silver", "topics": ["erp"], "vip": True, "balance": 3, "motto": "你好"},
    }


def test_bad_custom_cells_are_reported_by_line_column_and_reason(acme):
    report = run_import(acme, (
        "last_name,Customer tier,custom.topics,vip,custom.balance\n"
        "Ok,gold,crm,no,1\n"
        "Bad,platinum,crm;nope,maybe,1.234\n"
    ))
    assert report.imported == 0 and records(acme, Contact) == []
    found = {(e.line, e.column): e.reason for e in report.errors}
    assert set(found) == {(3, "Customer tier"), (3, "custom.topics"), (3, "vip"), (3, "custom.balance")}
    assert "Choose one of the options." in found[(3, "Customer tier")]
    assert "Choose among the options." in found[(3, "custom.topics")]
    assert "Must be true or false." in found[(3, "vip")]
    assert "decimal places" in found[(3, "custom.balance")]


def test_unknown_and_hidden_custom_columns_are_refused(acme, world):
    with pytest.raises(FileError, match="custom.nope"):
        run_import(acme, "last_name,custom.nope\nX,1\n")
    agent = world.member(acme, "agent@acme.test", "agent")
    with tenancy.tenant_scope(acme.id):
        agent = db.session.get(Membership, (acme.id, agent.id))
        # ``secret`` is for owners only: an agent's file may not set it.
        with pytest.raises(FileError, match="custom.secret"):
            run_import(acme, "last_name,custom.secret\nX,1\n", member=agent)


def test_export_adds_a_column_per_visible_field_formula_escaped(owner, acme, world):
    make(acme, "contacts", last_name="Li", custom={
        "tier": "gold", "topics": ["crm", "erp"], "vip": False, "balance": -3.5, "motto": "@SUM(A1)", "secret": "s"})
    rows = parse_csv(owner.get("/t/acme/export/contacts.csv").get_data(as_text=True))
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    customs_ = [h for h in header if h.startswith("custom.")]
    assert customs_ == ["custom.tier", "custom.topics", "custom.vip", "custom.balance", "custom.since",
                        "custom.motto", "custom.secret"]
    assert row["custom.topics"] == "crm;erp" and row["custom.vip"] == "false"
    assert row["custom.balance"] == "'-3.5" and row["custom.motto"] == "'@SUM(A1)" and row["custom.since"] == ""
    world.member(acme, "manager@acme.test", "manager")
    owner.get("/logout")
    world.login(owner, "manager@acme.test")
    manager_header = parse_csv(owner.get("/t/acme/export/contacts.csv").get_data(as_text=True))[0]
    assert "custom.secret" not in manager_header and "custom.tier" in manager_header


def test_export_then_import_round_trips_custom_values(owner, acme):
    values = {
        "Li": {"tier": "gold", "topics": ["crm", "erp"], "vip": True, "balance": 1200.5, "since": "2020-02-29",
               "motto": "=HYPERLINK(\"x\")", "secret": "'quoted"},
        "Ng": {"vip": False, "balance": -7, "motto": "a,b;\"c\"\nnew line"},
        "Wu": {},
    }
    for name, custom in values.items():
        make(acme, "contacts", last_name=name, custom=custom)
    exported = owner.get("/t/acme/export/contacts.csv").get_data(as_text=True)
    with tenancy.tenant_scope(acme.id):
        db.session.execute(delete(Contact))
        db.session.commit()
    response = upload(owner, "contacts", exported)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert customs(acme) == values


def test_the_import_page_reports_custom_errors_by_column(owner, acme):
    response = upload(owner, "contacts", "last_name,Customer tier\nX,platinum\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>2</td><td>Customer tier</td><td>Choose one of the options.</td>" in page
    assert "custom.tier" in owner.get("/t/acme/import").get_data(as_text=True)  # listed as a column


def test_owner_email_is_not_needed_for_custom_round_trip(acme):
    # A custom user field round-trips as the member id it stores.
    with tenancy.tenant_scope(acme.id):
        create_definition(acme, "contacts", {"key": "rep", "label": "Rep", "type": "user"}, OPERATOR)
        db.session.commit()
        member_id = db.session.scalar(select(Membership.id).join(User).where(User.email == "owner@acme.test"))
    report = run_import(acme, f"last_name,custom.rep\nRep,{member_id}\nBad,{'0' * 8}-0000-0000-0000-{'0' * 12}\n")
    assert [(e.line, e.column) for e in report.errors] == [(3, "custom.rep")]
