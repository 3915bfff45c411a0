"""The page of a captured lead (or of a contact a submission was attached to) shows how it came in:
the form, the visit's context, the consent text agreed to and the speed to lead -- all of it text
the visitor typed or sent, so escaped."""
from __future__ import annotations

import datetime as dt

from rapport import crm
from rapport.db import db
from tests.plugins.lead_capture.conftest import PLUGIN
from tests.plugins.lead_capture.processing_support import OPERATOR, submit
from tests.plugins.support import acting_in, logged_in, switch

HOSTILE = "<script>alert('utm')</script>"


def page(path: str) -> str:
    response = logged_in("owner@acme.test").get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_captured_lead_shows_its_form_context_and_consent(acme, make_form):
    form = make_form(name="Spring <b>offer</b>", consent_text="I agree to be called.", consent_version=3)
    submission = submit(acme, form, {"name": "Jane Roe", "email": "jane@example.com"},
                        utm={"utm_source": HOSTILE, "utm_campaign": "spring"},
                        referrer="https://ref.example/?a=<i>", landing_page="https://www.acme.example/offer",
                        consent_text="I agree to be called.", consent_version=3)
    html = page(f"/t/acme/leads/{submission.lead_id}")
    assert "Captured by web forms" in html
    assert "Spring &lt;b&gt;offer&lt;/b&gt;" in html and "<b>offer</b>" not in html
    assert "&lt;script&gt;alert(&#39;utm&#39;)&lt;/script&gt;" in html and HOSTILE not in html
    assert "spring" in html and "https://ref.example/?a=&lt;i&gt;" in html
    assert "https://www.acme.example/offer" in html
    assert "Consent (version 3)" in html and "I agree to be called." in html


def test_speed_to_lead_shows_once_the_owner_responded(acme, make_form):
    form = make_form()
    assigned = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
    submission = submit(acme, form, {"name": "Quick", "email": "quick@example.com"})
    with acting_in(acme):
        row = db.session.merge(submission)
        row.assigned_at, row.first_response_at = assigned, assigned + dt.timedelta(minutes=17, seconds=30)
        db.session.commit()
    assert "17 min after assignment" in page(f"/t/acme/leads/{submission.lead_id}")


def test_a_submission_attached_to_a_contact_shows_on_the_contact(acme, make_form):
    with acting_in(acme):
        contact = crm.create("contacts", {"first_name": "Max", "last_name": "M", "email": "max@example.com"}, OPERATOR)
        db.session.commit()
    submission = submit(acme, make_form(name="Callback form"), {"name": "Max", "email": "max@example.com"})
    assert submission.outcome == "attached" and submission.contact_id == contact.id
    html = page(f"/t/acme/contacts/{contact.id}")
    assert "Captured by web forms" in html and "Callback form" in html and "sent again: added as a note" in html


def test_no_panel_for_records_not_captured_or_with_the_plugin_off(acme, make_form):
    with acting_in(acme):
        lead = crm.create("leads", {"name": "Typed in by hand"}, OPERATOR)
        db.session.commit()
    assert "Captured by web forms" not in page(f"/t/acme/leads/{lead.id}")
    submission = submit(acme, make_form(), {"name": "Jane", "email": "jane@example.com"})
    assert "Captured by web forms" in page(f"/t/acme/leads/{submission.lead_id}")
    switch(acme, PLUGIN, False)
    assert "Captured by web forms" not in page(f"/t/acme/leads/{submission.lead_id}")
