"""Processing a stored submission: a new lead with the form's source and custom values, or a note on
the lead or contact it duplicates (email in any case, phone in E.164); running twice does nothing."""
from __future__ import annotations

from sqlalchemy import select

from plugins.lead_capture import processing
from plugins.lead_capture.models import Submission
from rapport import crm
from rapport.db import db
from rapport.models import AuditEvent
from tests.plugins.lead_capture.processing_support import (
    OPERATOR, count_leads, define_lead_field, lead_of, notes_on, store, process, submit,
)
from tests.plugins.support import acting_in


def test_a_new_visitor_becomes_a_lead_created_by_the_form(acme, make_form):
    form = make_form(lead_source="spring campaign")
    submission = submit(acme, form, {"name": "Jane Roe", "email": "jane@example.com", "phone": "+4930123456",
                                     "company": "Roe GmbH", "message": "Call me about pricing."},
                        utm={"utm_source": "newsletter"}, referrer="https://ref.example/")
    assert submission.status == "processed" and submission.outcome == "created"
    assert submission.processed_at is not None
    lead = lead_of(acme, submission)
    assert (lead.name, lead.email, lead.phone, lead.company, lead.source) == (
        "Jane Roe", "jane@example.com", "+4930123456", "Roe GmbH", "spring campaign")
    with acting_in(acme):
        created = db.session.scalar(select(AuditEvent).where(AuditEvent.record_id == lead.id, AuditEvent.action == "create"))
    assert (created.actor_type, created.actor_id, created.channel) == ("form", str(form.id), "form")
    [note] = notes_on(acme, lead_id=lead.id)
    assert note.kind == "note" and "Call me about pricing." in note.body
    assert "utm_source: newsletter" in note.body and "https://ref.example/" in note.body


def test_custom_values_land_on_the_lead(acme, make_form):
    define_lead_field(acme, key="industry", type="select",
                      options=[{"value": "retail", "label": "Retail"}, {"value": "energy", "label": "Energy"}])
    define_lead_field(acme, key="seats", type="number")
    form = make_form(fields=[{"key": "email", "label": None, "required": True},
                             {"key": "custom.industry", "label": None, "required": False},
                             {"key": "custom.seats", "label": None, "required": False}])
    submission = submit(acme, form, {"email": "buyer@example.com", "custom": {"industry": "energy", "seats": 25}})
    lead = lead_of(acme, submission)
    assert lead.custom == {"industry": "energy", "seats": 25}
    assert lead.name == "buyer@example.com"  # the form asked no name; the lead needs one


def test_a_value_no_longer_valid_is_kept_in_the_note_not_lost(acme, make_form):
    define_lead_field(acme, key="industry", type="select", options=[{"value": "retail", "label": "Retail"}])
    form = make_form()
    # Stored while "mining" was an option; the admin removed it before processing.
    submission = submit(acme, form, {"name": "Late", "email": "late@example.com", "custom": {"industry": "mining"}})
    lead = lead_of(acme, submission)
    assert submission.outcome == "created" and "industry" not in (lead.custom or {})
    [note] = notes_on(acme, lead_id=lead.id)
    assert "custom.industry: mining" in note.body


def test_same_email_in_another_case_attaches_to_the_existing_lead(acme, make_form):
    with acting_in(acme):
        existing = crm.create("leads", {"name": "Jane Roe", "email": "Jane.Roe@Example.com"}, OPERATOR)
        db.session.commit()
    form = make_form(name="Pricing request")
    before = count_leads(acme)
    submission = submit(acme, form, {"name": "Jane", "email": "jane.roe@example.com", "message": "Still interested"})
    assert submission.outcome == "attached" and submission.lead_id == existing.id
    assert count_leads(acme) == before
    [note] = notes_on(acme, lead_id=existing.id)
    assert note.subject == "Form Pricing request submitted again"
    assert "Still interested" in note.body and "Email: jane.roe@example.com" in note.body


def test_same_phone_attaches_to_the_existing_contact(acme, make_form):
    with acting_in(acme):
        contact = crm.create("contacts", {"first_name": "Max", "last_name": "Mustermann", "phone": "+4930999888"},
                             OPERATOR)
        db.session.commit()
    before = count_leads(acme)
    submission = submit(acme, make_form(), {"name": "Max M", "phone": "+4930999888"})
    assert submission.outcome == "attached" and submission.contact_id == contact.id and submission.lead_id is None
    assert count_leads(acme) == before
    [note] = notes_on(acme, contact_id=contact.id)
    assert "Phone: +4930999888" in note.body


def test_a_lead_of_another_tenant_is_no_duplicate(acme, other, make_form):
    with acting_in(other):
        crm.create("leads", {"name": "Elsewhere", "email": "shared@example.com"}, OPERATOR)
        db.session.commit()
    submission = submit(acme, make_form(), {"name": "Here", "email": "shared@example.com"})
    assert submission.outcome == "created"


def test_processing_twice_is_a_no_op(acme, make_form):
    form = make_form()
    submission = store(acme, form, {"name": "Once", "email": "once@example.com"})
    first = process(acme, submission)
    processed_at = first.processed_at
    second = process(acme, submission)
    assert second.processed_at == processed_at and count_leads(acme) == 1
    assert len(notes_on(acme, lead_id=first.lead_id)) == 0  # no message, no capture details: no note


def test_quarantined_submissions_are_left_alone(acme, make_form):
    submission = store(acme, make_form(), {"name": "Spam", "email": "spam@example.com"},
                       status="quarantined", spam_reason="honeypot")
    assert process(acme, submission).status == "quarantined"
    assert count_leads(acme) == 0


def test_a_submission_that_cannot_become_a_lead_waits_in_quarantine(acme, make_form):
    # A required form field added after the visit: the lead cannot be created as the rules stand.
    define_lead_field(acme, key="budget", type="number", required=True)
    submission = submit(acme, make_form(), {"name": "Early", "email": "early@example.com"})
    assert submission.status == "quarantined" and "custom.budget" in submission.spam_reason
    assert count_leads(acme) == 0


def test_an_unknown_submission_id_is_ignored(acme):
    with acting_in(acme):
        processing.process_submission(str(acme.id), "not-a-uuid")
        assert db.session.scalar(select(Submission)) is None
