"""The owner hears of a new lead by mail through a real SMTP server, with a link to it; managers hear
of an unassigned one; when the mail server is down the lead is kept and the mail goes out later."""
from __future__ import annotations

import datetime as dt

import pytest

from plugins.lead_capture import processing
from rapport.db import db, utcnow
from tests.livesupport import SMTPServer, body_of
from tests.plugins.lead_capture.processing_support import lead_of, submit
from tests.plugins.support import acting_in


@pytest.fixture
def smtp():
    """A local SMTP server, not started: tests start it when it should be up."""
    return SMTPServer()


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "BASE_URL": "http://crm.example.test"}


def test_the_owner_is_mailed_with_the_leads_details_and_link(acme, make_form, members, smtp):
    ann = members["ann@acme.test"]
    form = make_form(name="Contact us", assignment_mode="round_robin", assignees=[str(ann.id)],
                     notify_emails=["sales-desk@acme.test"])
    with smtp:
        submission = submit(acme, form, {"name": "Jane Roe", "email": "jane@example.com", "phone": "+4930123456",
                                         "message": "Please call after 3pm"})
        message = smtp.inbox.wait_for("ann@acme.test")
    assert "sales-desk@acme.test" in message["To"]
    assert message["Subject"] == "New lead for you: Jane Roe"
    body = body_of(message)
    assert "Jane Roe" in body and "jane@example.com" in body and "+4930123456" in body
    assert "Please call after 3pm" in body
    assert f"http://crm.example.test/t/acme/leads/{submission.lead_id}" in body
    assert submission.notified_at is not None


def test_a_recipient_that_could_split_the_header_is_left_out(acme, make_form, members, smtp):
    form = make_form(assignment_mode="round_robin", assignees=[str(members["ann@acme.test"].id)],
                     notify_emails=["desk@acme.test", "x@acme.test\r\nBcc: spy@evil.test"])
    with smtp:
        submit(acme, form, {"name": "Safe", "email": "safe@example.com"})
        message = smtp.inbox.wait_for("ann@acme.test")
    assert "desk@acme.test" in message["To"] and "evil" not in str(message)


def test_managers_are_told_of_an_unassigned_lead(acme, make_form, smtp):
    with smtp:
        submit(acme, make_form(assignment_mode="manual"), {"name": "Nobody's", "email": "queue@example.com"})
        message = smtp.inbox.wait_for("manager@acme.test")
    recipients = message["To"]
    assert "owner@acme.test" in recipients and "ann@acme.test" not in recipients
    assert message["Subject"] == "New unassigned lead: Nobody's"
    assert "http://crm.example.test/t/acme/leads?owner=none" in body_of(message)


def test_the_owner_reads_the_mail_in_their_language(acme, make_form, members, smtp):
    from rapport.provisioning import user_by_email

    user_by_email("bob@acme.test").locale = "zh_CN"
    db.session.commit()
    form = make_form(assignment_mode="round_robin", assignees=[str(members["bob@acme.test"].id)])
    with smtp:
        submit(acme, form, {"name": "Li Lei", "email": "li@example.com"})
        message = smtp.inbox.wait_for("bob@acme.test")
    assert "New lead for you" not in str(message["Subject"])


def test_with_the_mail_server_down_the_lead_is_kept_and_mailed_later(acme, make_form, members, smtp):
    form = make_form(assignment_mode="round_robin", assignees=[str(members["ann@acme.test"].id)])
    submission = submit(acme, form, {"name": "Patient", "email": "patient@example.com"})  # SMTP not started
    assert submission.status == "processed" and lead_of(acme, submission) is not None
    assert submission.notified_at is None
    with smtp:
        # Before five minutes the sweep leaves it to the queue's own retries; after two days it gives up.
        assert processing.sweep_submissions()["notifications"] == 0
        assert processing.sweep_submissions(now=utcnow() + dt.timedelta(days=3))["notifications"] == 0
        queued = processing.sweep_submissions(now=utcnow() + dt.timedelta(minutes=6))
        message = smtp.inbox.wait_for("ann@acme.test")
        assert queued == {"processing": 0, "notifications": 1}
        assert "Patient" in body_of(message)
        with acting_in(acme):
            db.session.refresh(submission)
        assert submission.notified_at is not None
        assert processing.sweep_submissions(now=utcnow() + dt.timedelta(minutes=6))["notifications"] == 0
    assert len(smtp.inbox.messages) == 1  # sent once


def test_calling_the_task_again_delivers_once(acme, make_form, members, smtp):
    form = make_form(assignment_mode="round_robin", assignees=[str(members["ann@acme.test"].id)])
    submission = submit(acme, form, {"name": "Twice", "email": "twice@example.com"})
    with smtp:
        with acting_in(acme):
            processing.notify_owner(str(acme.id), str(submission.id))
            processing.notify_owner(str(acme.id), str(submission.id))
        smtp.inbox.wait_for("ann@acme.test")
    assert len(smtp.inbox.messages) == 1


def test_the_sweep_processes_a_submission_the_queue_missed(acme, make_form):
    from tests.plugins.lead_capture.processing_support import store

    submission = store(acme, make_form(), {"name": "Missed", "email": "missed@example.com"})
    assert processing.sweep_submissions()["processing"] == 0  # under a minute old: the queue has it
    assert processing.sweep_submissions(now=utcnow() + dt.timedelta(minutes=2))["processing"] == 1
    with acting_in(acme):
        db.session.refresh(submission)
    assert submission.status == "processed" and submission.lead_id is not None


def test_the_sweep_skips_tenants_without_the_plugin(acme, other, make_form):
    from tests.plugins.lead_capture.processing_support import store
    from tests.plugins.support import switch

    store(acme, make_form(), {"name": "Off", "email": "off@example.com"})
    switch(acme, "lead_capture", False)
    assert processing.sweep_submissions(now=utcnow() + dt.timedelta(minutes=2)) == {"processing": 0, "notifications": 0}
