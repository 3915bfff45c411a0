"""Speed to lead: when the owner first acts on a captured lead, and what happens when they do not.

``record_created`` stamps ``first_response_at`` on the lead's submissions when the lead's owner
creates (or owns) an activity on it. ``reassign_stale`` hands a lead whose owner has not responded
within the form's ``follow_up_minutes`` to someone else by the form's own rules, and tells the
managers; it runs every minute on the scheduler and from ``rapport leads reassign-stale``.

Simplification: the limit counts only minutes inside the owner's working hours (their time zone,
day by day); holidays are not known. An owner who is away, or no longer an active member, is
measured by the wall clock, so their leads do not wait for their return.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask_babel import gettext as _
from sqlalchemy import select

from rapport import crm, hookimpl, mail, tasks, tenancy
from rapport.db import db, utcnow
from rapport.models import ApiToken, Lead
from rapport.pipeline import Actor

from . import assignment, processing
from .models import LeadForm, Submission

__all__ = ["record_created", "record_updated"]  # the hook implementations, for the plugin's __init__

STALE_ACTOR = Actor("plugin", processing.PLUGIN, "lead capture: stale lead reassignment", "plugin")
STALE_BATCH = 500

log = logging.getLogger(__name__)


# --- speed to lead --------------------------------------------------------------------------------
def _actor_member_id(actor) -> str | None:
    if actor is None:
        return None
    if actor.type == "member":
        return actor.id
    if actor.type == "token" and actor.id:
        token = db.session.get(ApiToken, (tenancy.current_tenant_id(), processing._uuid(actor.id)))
        return str(token.membership_id) if token is not None else None
    return None


def by_owner(activity, lead: Lead, actor) -> bool:
    if lead.owner_id is None:
        return False
    return activity.owner_id == lead.owner_id or _actor_member_id(actor) == str(lead.owner_id)


@hookimpl
def record_created(tenant, record_type, record, actor):
    """The owner's first activity on a captured lead: that is the first response."""
    if record_type != "activities" or record.lead_id is None or getattr(actor, "type", None) == "form":
        return  # a form's own note on the lead is not anyone's response (and costs no query)
    waiting = list(db.session.scalars(
        select(Submission).where(Submission.lead_id == record.lead_id, Submission.first_response_at.is_(None))
    ))
    if not waiting:
        return
    lead = db.session.get(Lead, (tenant.id, record.lead_id))
    if lead is None or not by_owner(record, lead, actor):
        return
    for submission in waiting:
        submission.first_response_at = record.created_at or utcnow()


@hookimpl
def record_updated(tenant, record_type, record, changes, actor):
    """Whoever changes a captured lead's owner (a manager taking it from the queue, say), the
    speed-to-lead clock starts again for the new owner."""
    if record_type != "leads" or "owner_id" not in changes:
        return
    for submission in db.session.scalars(select(Submission).where(Submission.lead_id == record.id)):
        if submission.owner_id != record.owner_id:
            submission.owner_id = record.owner_id
            submission.assigned_at = utcnow() if record.owner_id is not None else None


def speed_to_lead(submission: Submission) -> dt.timedelta | None:
    """The time from capture to the owner's first activity, once there is one."""
    if submission.first_response_at is None:
        return None
    return assignment.aware(submission.first_response_at) - assignment.aware(submission.received_at)


# --- stale leads ----------------------------------------------------------------------------------
def reassign_stale(now: dt.datetime | None = None) -> int:
    """Reassign every stale lead of every tenant with the plugin on; returns how many."""
    now = assignment.aware(now).astimezone(dt.timezone.utc) if now else utcnow()
    total = 0
    for tenant in processing.tenants_with_plugin():
        with tenancy.tenant_scope(tenant.id):
            total += reassign_stale_in_tenant(now)
    return total


@tasks.periodic_task(tasks.crontab(minute="*"))
def reassign_stale_leads() -> None:
    reassign_stale()


def _candidates(now: dt.datetime) -> list[tuple]:
    """(submission id, form) of leads past their form's limit by the wall clock; working hours
    only shorten what counts, so nothing else can be stale yet."""
    forms = {f.id: f for f in db.session.scalars(select(LeadForm).where(LeadForm.follow_up_minutes.is_not(None)))}
    found = []
    for form in forms.values():
        limit = now - dt.timedelta(minutes=form.follow_up_minutes)
        rows = db.session.scalars(
            select(Submission.id).where(
                Submission.form_id == form.id, Submission.status == "processed", Submission.outcome == "created",
                Submission.first_response_at.is_(None), Submission.owner_id.is_not(None),
                Submission.assigned_at < limit,
            ).order_by(Submission.assigned_at).limit(STALE_BATCH)
        )
        found += [(sid, form) for sid in rows]
    return found


def reassign_stale_in_tenant(now: dt.datetime) -> int:
    count = 0
    for submission_id, form in _candidates(now):
        if reassign_one(submission_id, form.id, now):
            count += 1
    db.session.rollback()
    return count


def is_stale(submission: Submission, form: LeadForm, now: dt.datetime) -> bool:
    if (submission.status != "processed" or submission.first_response_at is not None
            or submission.owner_id is None or submission.assigned_at is None or not form.follow_up_minutes):
        return False
    owner = assignment.active_member(submission.owner_id)
    availability = assignment.availability_of(submission.owner_id) if owner is not None else None
    if owner is None or (availability is not None and availability.away):
        waited = (now - assignment.aware(submission.assigned_at)).total_seconds() / 60
    else:
        waited = assignment.working_minutes(availability, submission.assigned_at, now)
    return waited >= form.follow_up_minutes


def reassign_one(submission_id, form_id, now: dt.datetime) -> bool:
    """Reassign one lead if it is still stale (checked again under the row lock), commit, then
    notify the new owner and tell the managers."""
    submission = processing.locked_submission(submission_id)
    form = db.session.get(LeadForm, (tenancy.current_tenant_id(), form_id))
    lead = db.session.get(Lead, (tenancy.current_tenant_id(), submission.lead_id)) if submission and submission.lead_id else None
    if submission is None or form is None or lead is None or not is_stale(submission, form, now):
        db.session.rollback()
        return False
    previous = lead.owner_id
    values = processing.values_for_rules(lead, submission.data or {})
    new_owner = assignment.choose_owner(form, values, exclude={previous}, now=now)
    crm.update(lead, {"owner_id": str(new_owner) if new_owner else None}, STALE_ACTOR)
    submission.owner_id = new_owner
    submission.assigned_at = now if new_owner is not None else None
    submission.reassigned_count = (submission.reassigned_count or 0) + 1
    if new_owner is not None:
        submission.notified_at = None  # the new owner's mail; the sweep retries it like the first
    db.session.commit()
    tell_managers(submission, form, lead, previous, new_owner)
    if new_owner is not None:
        tasks.enqueue(processing.notify_owner, str(tenancy.current_tenant_id()), str(submission.id))
    return True


def _member_label(membership_id) -> str:
    member = assignment.active_member(membership_id) if membership_id else None
    if member is None:
        return _("nobody (unassigned)") if membership_id is None else str(membership_id)
    return member.user.display_name


def tell_managers(submission: Submission, form: LeadForm, lead: Lead, previous, new_owner) -> None:
    managers = assignment.manager_emails()
    if not managers:
        return
    subject = _("Lead reassigned: %(name)s", name=lead.name)
    body = "\n\n".join([
        _("%(lead)s, captured by the form %(form)s, was not followed up within %(minutes)s working minutes.",
          lead=lead.name, form=form.name, minutes=form.follow_up_minutes),
        _("Previous owner: %(previous)s\nNew owner: %(new)s", previous=_member_label(previous),
          new=_member_label(new_owner)),
        _("Open it: %(link)s", link=processing.record_link(submission)),
    ])
    mail.queue(", ".join(managers), subject, body)
