"""Create, edit and delete forms; the lead stage control; logging activities and marking them done."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import AuditEvent, LeadStageChange

from .conftest import count, reload, text


def field_error(response, name: str) -> str:
    found = re.search(rf'<p class="error" id="e-{name}">([^<]*)</p>', text(response))
    return found.group(1) if found else ""


def test_create_account_then_see_it(client, shop):
    shop.login(client)
    response = client.post(shop.url("accounts/new"), data={
        "name": "Northwind", "website": "https://northwind.example", "email": "info@northwind.example",
        "phone": "+1 555 0100", "industry": "Retail", "owner_id": str(shop.members["manager"].id),
    })
    assert response.status_code == 302
    assert count("accounts", shop.tenant, name="Northwind", owner_id=shop.members["manager"].id) == 1
    page = client.get(response.headers["Location"])
    assert "Northwind" in text(page) and "Mona Manager" in text(page) and "Account created." in text(page)


@pytest.mark.parametrize("record_type,data,bad_field", [
    ("accounts", {"name": "", "email": "kept@typed"}, "name"),
    ("accounts", {"name": "Kept name", "website": "ftp://nope"}, "website"),
    ("contacts", {"first_name": "", "last_name": "", "email": "kept@example.com"}, "last_name"),
    ("contacts", {"last_name": "Kept", "phone": "call me maybe"}, "phone"),
    ("leads", {"name": "Kept lead", "value": "lots"}, "value"),
    ("activities", {"kind": "task", "subject": "Kept subject", "due_at": "next tuesday"}, "due_at"),
    ("activities", {"kind": "", "subject": "Kept subject"}, "kind"),
])
def test_bad_input_is_422_names_the_field_keeps_values_writes_nothing(client, shop, record_type, data, bad_field):
    shop.login(client)
    response = client.post(shop.url(f"{record_type}/new"), data=data)
    assert response.status_code == 422
    assert field_error(response, bad_field)
    assert f'aria-invalid="true" aria-describedby="e-{bad_field}"' in text(response)
    for value in data.values():
        if value and value.startswith(("kept", "Kept", "call", "lots", "next", "ftp")):
            assert f'value="{value}"' in text(response)
    assert count(record_type, shop.tenant) == 0
    with tenancy.tenant_scope(shop.tenant.id):
        assert db.session.scalars(select(AuditEvent)).all() == []


def test_edit_saves_changes_and_bad_edit_changes_nothing(client, shop):
    account = shop.make("accounts", name="Acme Ltd", email="old@acme.example")
    shop.login(client)
    form = client.get(shop.url(f"accounts/{account.id}/edit"))
    assert 'value="old@acme.example"' in text(form)
    bad = client.post(shop.url(f"accounts/{account.id}/edit"), data={"name": "Acme Ltd", "email": "not an email"})
    assert bad.status_code == 422 and field_error(bad, "email") and 'value="not an email"' in text(bad)
    assert reload(account).email == "old@acme.example"
    good = client.post(shop.url(f"accounts/{account.id}/edit"), data={"name": "Acme Group", "email": ""})
    assert good.status_code == 302
    stored = reload(account)
    assert stored.name == "Acme Group" and stored.email is None


def test_edit_contact_cannot_remove_both_names(client, shop):
    contact = shop.make("contacts", first_name="Ann", last_name="Lee")
    shop.login(client)
    response = client.post(shop.url(f"contacts/{contact.id}/edit"), data={"first_name": "", "last_name": ""})
    assert response.status_code == 422 and field_error(response, "last_name")
    assert reload(contact).last_name == "Lee"
    assert client.post(shop.url(f"contacts/{contact.id}/edit"), data={"first_name": "", "last_name": "Lee"}).status_code == 302
    assert reload(contact).first_name == ""


def test_delete_asks_first_then_deletes(client, shop):
    account = shop.make("accounts", name="Doomed")
    contact = shop.make("contacts", last_name="Survivor", account_id=str(account.id))
    shop.login(client)
    confirm = client.get(shop.url(f"accounts/{account.id}/delete"))
    assert confirm.status_code == 200 and "Delete Account" in text(confirm) and "cannot be undone" in text(confirm)
    assert count("accounts", shop.tenant) == 1  # looking at the question deletes nothing
    response = client.post(shop.url(f"accounts/{account.id}/delete"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/t/acme/accounts")
    assert count("accounts", shop.tenant) == 0
    assert reload(contact).account_id is None
    assert client.get(shop.url(f"accounts/{account.id}")).status_code == 404


def test_stage_control_moves_a_lead_and_keeps_every_change(client, shop):
    lead = shop.make("leads", name="Pipeline")
    shop.login(client)
    for stage in ("prospect", "opportunity", "customer"):
        assert client.post(shop.url(f"leads/{lead.id}/stage"), data={"stage": stage}).status_code == 302
    assert reload(lead).stage == "customer"
    with tenancy.tenant_scope(shop.tenant.id):
        history = db.session.scalars(
            select(LeadStageChange).where(LeadStageChange.lead_id == lead.id).order_by(LeadStageChange.changed_at)
        ).all()
    assert [(h.from_stage, h.to_stage) for h in history] == [
        (None, "target"), ("target", "prospect"), ("prospect", "opportunity"), ("opportunity", "customer")]
    page = text(client.get(shop.url(f"leads/{lead.id}")))
    assert re.search(r'class="current" aria-current="step">Customer<', page)
    bad = client.post(shop.url(f"leads/{lead.id}/stage"), data={"stage": "won"})
    assert bad.status_code == 422 and field_error(bad, "stage")
    assert reload(lead).stage == "customer"


def test_log_a_task_from_a_record_page_and_mark_it_done(client, shop):
    contact = shop.make("contacts", last_name="Peacock")
    shop.login(client)
    page = text(client.get(shop.url(f"contacts/{contact.id}")))
    assert f'<input type="hidden" name="contact_id" value="{contact.id}">' in page
    here = shop.url(f"contacts/{contact.id}")
    response = client.post(shop.url("activities/new"), data={
        "kind": "task", "subject": "Send contract", "due_at": "2026-05-04T15:30", "contact_id": str(contact.id),
        "owner_id": str(shop.members["owner"].id), "next": here,
    })
    assert response.status_code == 302 and response.headers["Location"].endswith(here)
    timeline = text(client.get(here)).split('id="timeline-title"')[1]
    assert "Send contract" in timeline and "2026-05-04 15:30 UTC" in timeline and "Open" in timeline
    task_id = re.search(r'/activities/([0-9a-f-]{36})/done', timeline).group(1)
    done = client.post(shop.url(f"activities/{task_id}/done"), data={"next": here})
    assert done.status_code == 302 and done.headers["Location"].endswith(here)
    timeline = text(client.get(here)).split('id="timeline-title"')[1]
    assert "Open" not in timeline and "/done" not in timeline
    assert count("activities", shop.tenant, contact_id=contact.id) == 1
    assert count("activities", shop.tenant, done_at=None) == 0


def test_new_activity_form_is_prefilled_from_the_link(client, shop):
    lead = shop.make("leads", name="Prefilled lead")
    shop.login(client)
    form = text(client.get(shop.url(f"activities/new?lead_id={lead.id}&kind=meeting")))
    assert re.search(rf'<option value="{lead.id}" selected>Prefilled lead</option>', form)
    assert '<option value="meeting" selected>' in form


def test_redirect_after_post_never_leaves_the_tenant(client, shop):
    task = shop.make("activities", kind="task", subject="Mind the next")
    shop.login(client)
    for target in ("https://evil.example/", "//evil.example/t/acme/", "/t/globex/accounts"):
        response = client.post(shop.url(f"activities/{task.id}/done"), data={"next": target})
        assert response.headers["Location"].endswith(f"/t/acme/activities/{task.id}")


def test_edit_a_done_task_keeps_when_it_was_done(client, shop):
    task = shop.make("activities", kind="task", subject="Done already", done_at="2026-01-02T03:04:00+00:00")
    shop.login(client)
    form = text(client.get(shop.url(f"activities/{task.id}/edit")))
    assert re.search(r'name="done" value="on" checked', form)
    response = client.post(shop.url(f"activities/{task.id}/edit"), data={
        "kind": "task", "subject": "Done already, renamed", "due_at": "2026-01-01T10:00", "done": "on"})
    assert response.status_code == 302, text(response)
    stored = reload(task)
    assert stored.subject == "Done already, renamed"
    assert stored.done_at.replace(tzinfo=None) == dt.datetime(2026, 1, 2, 3, 4)
    assert stored.due_at.replace(tzinfo=None) == dt.datetime(2026, 1, 1, 10, 0)
    client.post(shop.url(f"activities/{task.id}/edit"), data={"kind": "task", "subject": "Reopened"})
    assert reload(task).done_at is None
