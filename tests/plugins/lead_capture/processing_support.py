"""Helpers for the processing, assignment and speed-to-lead tests: store a submission the way the
public side does (committed, status "received") and run the queue's job on it."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from plugins.lead_capture import processing
from plugins.lead_capture.models import MemberAvailability, Submission
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.models import Activity, Lead
from rapport.pipeline import Actor
from tests.plugins.support import acting_in

OPERATOR = Actor.operator("tests")


def store(tenant, form, data: dict, **columns) -> Submission:
    with acting_in(tenant):
        columns.setdefault("status", "received")
        submission = Submission(form_id=form.id, dedupe_key=uuid.uuid4().hex, data=data, **columns)
        db.session.add(submission)
        db.session.commit()
    return submission


def process(tenant, submission: Submission) -> Submission:
    """Run the job as the queue would (``TASKS_IMMEDIATE``: inside this call) and reload the row."""
    with acting_in(tenant):
        processing.process_submission(str(tenant.id), str(submission.id))
        return db.session.get(Submission, (tenant.id, submission.id))


def submit(tenant, form, data: dict, **columns) -> Submission:
    return process(tenant, store(tenant, form, data, **columns))


def lead_of(tenant, submission: Submission) -> Lead | None:
    with acting_in(tenant):
        return db.session.get(Lead, (tenant.id, submission.lead_id)) if submission.lead_id else None


def count_leads(tenant) -> int:
    with acting_in(tenant):
        return db.session.scalar(select(func.count()).select_from(Lead))


def notes_on(tenant, **link) -> list[Activity]:
    with acting_in(tenant):
        stmt = select(Activity).where(*(getattr(Activity, k) == v for k, v in link.items()))
        return list(db.session.scalars(stmt.order_by(Activity.created_at)))


def set_availability(tenant, member, away: bool = False, timezone: str = "UTC", hours: dict | None = None):
    with acting_in(tenant):
        row = db.session.get(MemberAvailability, (tenant.id, member.id))
        if row is None:
            row = MemberAvailability(id=member.id)
            db.session.add(row)
        row.away, row.timezone, row.working_hours = away, timezone, hours or {}
        db.session.commit()


def define_lead_field(tenant, **data):
    data.setdefault("label", data["key"].title())
    data.setdefault("show_in", {"forms": True})
    with acting_in(tenant):
        definition = create_definition(tenant, "leads", data, OPERATOR)
        db.session.commit()
    return definition


def email_data(i: int, **extra) -> dict:
    return {"name": f"Visitor {i}", "email": f"visitor{i}@example.com", **extra}
