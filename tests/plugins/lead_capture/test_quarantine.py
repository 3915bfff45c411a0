"""The quarantine page: admins review suspected spam, release it (it becomes a lead) or discard it
(kept for the record). Submitted data is shown escaped."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from rapport.db import db
from rapport.models import AuditEvent
from tests.plugins.lead_capture.public_helpers import PATH, leads, submissions
from tests.plugins.support import acting_in, logged_in

QUARANTINE = "/t/acme/admin/forms/quarantine"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def spam(client, acme, make_form):
    """Two honeypot submissions (one with markup in its data), and one genuine submission."""
    make_form()
    client.post(PATH, json={"name": "Real Person", "email": "real@example.com"})
    for name, email in ((SCRIPT, "bot@example.com"), ("Caught Human", "human@example.com")):
        client.post(PATH, json={"name": name, "email": email, "website": "http://spam.example"})
    rows = {row.data["email"]: row for row in submissions(acme)}
    return rows["bot@example.com"], rows["human@example.com"]


def test_admin_sees_quarantined_submissions_escaped(spam):
    html = logged_in("owner@acme.test").get(QUARANTINE).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and SCRIPT not in html
    assert "human@example.com" in html and "real@example.com" not in html
    assert "Contact us" in html  # the form
    assert "Filled in the hidden field that only bots see" in html  # the reason, in words
    assert len(re.findall(r">Release</button>", html)) == 2


def test_release_turns_the_submission_into_a_lead(spam, acme):
    _bot, human = spam
    client = logged_in("owner@acme.test")
    response = client.post(f"{QUARANTINE}/{human.id}/release")
    assert response.status_code == 303 and response.headers["Location"].endswith(QUARANTINE)
    assert "Submission released" in client.get(QUARANTINE).get_data(as_text=True)
    row = {r.data["email"]: r for r in submissions(acme)}["human@example.com"]
    assert row.status == "processed" and row.lead_id is not None
    assert sorted(lead.email for lead in leads(acme)) == ["human@example.com", "real@example.com"]
    with acting_in(acme):
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.record_id == human.id))
    assert event.changes == {"status": ["quarantined", "received"]} and event.actor_label == "owner@acme.test"
    # Released once: a second click finds nothing to release.
    again = client.post(f"{QUARANTINE}/{human.id}/release")
    assert again.status_code == 303
    assert "no longer in the quarantine" in client.get(QUARANTINE).get_data(as_text=True)


def test_discard_keeps_the_submission_for_the_record(spam, acme):
    bot, _human = spam
    client = logged_in("owner@acme.test")
    assert client.post(f"{QUARANTINE}/{bot.id}/discard").status_code == 303
    row = {r.data["email"]: r for r in submissions(acme)}["bot@example.com"]
    assert (row.status, row.spam_reason) == ("discarded", "honeypot")
    assert "bot@example.com" not in client.get(QUARANTINE).get_data(as_text=True)
    assert [lead.email for lead in leads(acme)] == ["real@example.com"]


def test_only_form_managers_may_review(spam):
    bot, _human = spam
    for email in ("manager@acme.test", "ann@acme.test"):
        client = logged_in(email)
        assert client.get(QUARANTINE).status_code == 403
        assert client.post(f"{QUARANTINE}/{bot.id}/release").status_code == 403
    assert bot.status == "quarantined"


def test_the_admin_menu_links_the_quarantine(acme):
    html = logged_in("owner@acme.test").get("/t/acme/").get_data(as_text=True)
    assert f'href="{QUARANTINE}"' in html
    assert f'href="{QUARANTINE}"' not in logged_in("ann@acme.test").get("/t/acme/").get_data(as_text=True)


def test_another_tenants_submission_is_not_found_here(spam, world):
    from rapport.models import Tenant
    from tests.plugins.support import switch

    bot, _human = spam
    world.tenant("beta", owner_email="owner@beta.test")
    switch(db.session.scalar(select(Tenant).where(Tenant.slug == "beta")), "lead_capture", True)
    client = logged_in("owner@beta.test")
    for action in ("release", "discard"):
        assert client.post(f"/t/beta/admin/forms/quarantine/{bot.id}/{action}").status_code == 404
        assert client.post(f"/t/beta/admin/forms/quarantine/{uuid.uuid4()}/{action}").status_code == 404
    assert bot.status == "quarantined"
