"""Speed to lead: the owner's first activity on a captured lead is recorded; a lead not followed up
within the form's limit (counted in the owner's working hours) goes to the next member by the same
rules, and the managers are told. From the scheduler's function and from ``rapport leads reassign-stale``."""
from __future__ import annotations

import datetime as dt

import pytest

from plugins.lead_capture import stale
from plugins.lead_capture.models import Submission
from rapport import crm
from rapport.db import db, utcnow
from rapport.pipeline import Actor
from tests.livesupport import SMTPServer, body_of
from tests.plugins.lead_capture.processing_support import lead_of, set_availability, submit
from tests.plugins.support import acting_in, logged_in

UTC = dt.timezone.utc
WEEKDAYS = {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}


@pytest.fixture
def ann(members):
    return members["ann@acme.test"]


@pytest.fixture
def bob(members):
    return members["bob@acme.test"]


@pytest.fixture
def form(make_form, ann, bob):
    return make_form(assignment_mode="round_robin", assignees=[str(ann.id), str(bob.id)], follow_up_minutes=30)


def as_member(member) -> Actor:
    return Actor("member", str(member.id), member.user.email, "web")


def reload(acme, submission) -> Submission:
    with acting_in(acme):
        db.session.refresh(submission)
        return submission


def assigned_at(acme, submission, moment: dt.datetime) -> None:
    with acting_in(acme):
        submission.assigned_at = moment
        db.session.commit()


# --- speed to lead --------------------------------------------------------------------------------
def test_the_owners_first_activity_is_the_first_response(acme, form, ann, bob):
    submission = submit(acme, form, {"name": "Quick", "email": "quick@example.com"})
    assert submission.owner_id == ann.id and submission.first_response_at is None
    with acting_in(acme):
        crm.create("activities", {"kind": "note", "subject": "Bob looked", "lead_id": str(submission.lead_id)},
                   as_member(bob), bob)
        db.session.commit()
    assert reload(acme, submission).first_response_at is None  # not the owner
    with acting_in(acme):
        call = crm.create("activities", {"kind": "call", "subject": "Called back", "lead_id": str(submission.lead_id)},
                          as_member(ann), ann)
        db.session.commit()
    submission = reload(acme, submission)
    assert submission.first_response_at is not None
    assert stale.speed_to_lead(submission) == (
        stale.assignment.aware(call.created_at) - stale.assignment.aware(submission.received_at))
    with acting_in(acme):
        crm.create("activities", {"kind": "email", "subject": "Later", "lead_id": str(submission.lead_id)},
                   as_member(ann), ann)
        db.session.commit()
    assert stale.assignment.aware(reload(acme, submission).first_response_at) == stale.assignment.aware(call.created_at)


def test_an_activity_logged_on_the_lead_page_counts(acme, form, ann):
    submission = submit(acme, form, {"name": "Web", "email": "web@example.com"})
    client = logged_in("ann@acme.test")
    response = client.post("/t/acme/activities/new", data={
        "kind": "call", "subject": "Rang them", "lead_id": str(submission.lead_id)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert reload(acme, submission).first_response_at is not None


# --- stale reassignment ---------------------------------------------------------------------------
def test_a_lead_not_followed_up_in_time_goes_to_the_next_member(acme, form, ann, bob, smtp):
    submission = submit(acme, form, {"name": "Waiting Lead", "email": "waiting@example.com"})
    start = dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday
    assigned_at(acme, submission, start)
    assert stale.reassign_stale(now=start + dt.timedelta(minutes=29)) == 0
    assert stale.reassign_stale(now=start + dt.timedelta(minutes=31)) == 1
    submission = reload(acme, submission)
    lead = lead_of(acme, submission)
    assert lead.owner_id == bob.id == submission.owner_id
    assert submission.reassigned_count == 1
    assert stale.assignment.aware(submission.assigned_at) == start + dt.timedelta(minutes=31)
    to_bob = smtp.inbox.wait_for("bob@acme.test")
    assert to_bob["Subject"] == "Lead reassigned to you: Waiting Lead"
    to_managers = smtp.inbox.wait_for("manager@acme.test")
    assert to_managers["Subject"] == "Lead reassigned: Waiting Lead"
    assert "owner@acme.test" in to_managers["To"]
    text = body_of(to_managers)
    assert "30 working minutes" in text and "ann@acme.test" in text and "bob@acme.test" in text
    # Bob's clock starts now: not stale again at once.
    assert stale.reassign_stale(now=start + dt.timedelta(minutes=40)) == 0


def test_only_working_hours_count(acme, form, ann):
    submission = submit(acme, form, {"name": "Evening", "email": "evening@example.com"})
    assert submission.owner_id == ann.id
    set_availability(acme, ann, timezone="Europe/Berlin", hours=WEEKDAYS)
    friday_1650_berlin = dt.datetime(2026, 12, 4, 15, 50, tzinfo=UTC)
    assigned_at(acme, submission, friday_1650_berlin)
    monday_0910_berlin = dt.datetime(2026, 12, 7, 8, 10, tzinfo=UTC)  # 20 working minutes later
    assert stale.reassign_stale(now=monday_0910_berlin) == 0
    assert stale.reassign_stale(now=monday_0910_berlin + dt.timedelta(minutes=11)) == 1


def test_a_lead_with_a_response_is_not_stale(acme, form, ann):
    submission = submit(acme, form, {"name": "Handled", "email": "handled@example.com"})
    with acting_in(acme):
        crm.create("activities", {"kind": "call", "subject": "Done", "lead_id": str(submission.lead_id)},
                   as_member(ann), ann)
        db.session.commit()
    assert stale.reassign_stale(now=utcnow() + dt.timedelta(hours=5)) == 0


def test_a_form_without_a_limit_never_reassigns(acme, make_form, ann):
    form = make_form(assignment_mode="round_robin", assignees=[str(ann.id)])
    submit(acme, form, {"name": "Relaxed", "email": "relaxed@example.com"})
    assert stale.reassign_stale(now=utcnow() + dt.timedelta(days=3)) == 0


def test_with_nobody_else_the_lead_goes_to_the_queue_and_managers_hear(acme, make_form, ann, smtp):
    form = make_form(assignment_mode="round_robin", assignees=[str(ann.id)], follow_up_minutes=15)
    submission = submit(acme, form, {"name": "Alone", "email": "alone@example.com"})
    assert stale.reassign_stale(now=utcnow() + dt.timedelta(minutes=20)) == 1
    submission = reload(acme, submission)
    assert submission.owner_id is None and lead_of(acme, submission).owner_id is None
    assert "nobody (unassigned)" in body_of(smtp.inbox.wait_for("manager@acme.test"))


def test_a_manager_taking_the_lead_restarts_the_clock(acme, form, members):
    submission = submit(acme, form, {"name": "Taken", "email": "taken@example.com"})
    manager = members["manager@acme.test"]
    with acting_in(acme):
        crm.update(lead_of(acme, submission), {"owner_id": str(manager.id)}, as_member(manager), manager)
        db.session.commit()
    submission = reload(acme, submission)
    assert submission.owner_id == manager.id
    assert stale.reassign_stale(now=utcnow() + dt.timedelta(minutes=20)) == 0


def test_the_cli_command_reassigns_and_says_how_many(acme, form, bob, runner):
    submission = submit(acme, form, {"name": "Cli Lead", "email": "cli@example.com"})
    assigned_at(acme, submission, utcnow() - dt.timedelta(hours=2))
    result = runner.invoke(args=["leads", "reassign-stale"])
    assert result.exit_code == 0, result.output
    assert "reassigned 1 stale lead" in result.output
    assert reload(acme, submission).owner_id == bob.id
    again = runner.invoke(args=["leads", "reassign-stale"])
    assert "reassigned 0 stale leads" in again.output
