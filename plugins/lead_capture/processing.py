"""What happens after a submission is stored, on the task queue: dedupe, lead (or a note on the
record it matches), assignment, then the owner's notification by mail.

Each step is safe to run twice: ``process_submission`` locks the submission row and acts only on
status "received"; ``notify_owner`` only while ``notified_at`` is empty. ``sweep`` (every minute)
queues again whatever a queue outage or a crashed worker left behind, so nothing is lost.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from types import SimpleNamespace

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, select, update

from rapport import crm, mail, tasks, tenancy
from rapport.db import db, utcnow
from rapport.fields import compiled
from rapport.models import Contact, Lead, Tenant
from rapport.pipeline import Actor
from rapport.plugin_host import current_host

from . import assignment
from .models import LeadForm, Submission

PLUGIN = "lead_capture"
CAPTURED_METER = "leads.captured"
CORE_FIELDS = ("name", "email", "phone", "company")
SUBJECT_MAX, BODY_MAX, SOURCE_MAX, NAME_MAX = 200, 10_000, 100, 200
NOTIFY_RETRIES, NOTIFY_RETRY_DELAY = 8, 60  # a mail server down for a few minutes loses nothing
RECEIVED_GRACE = dt.timedelta(seconds=60)  # older "received" rows missed the queue
NOTIFY_GRACE = dt.timedelta(minutes=5)  # older unsent notifications have run out of luck with retries
NOTIFY_GIVE_UP = dt.timedelta(days=2)  # the lead is in the CRM meanwhile; mail older than this is stale news
SWEEP_BATCH = 500

ADDRESS = re.compile(r"[^\s,;<>\"]+@[^\s,;<>\"]+")  # one plain address: nothing that could split a header

log = logging.getLogger(__name__)


class Unprocessable(Exception):
    """The submission cannot become a lead under the tenant's current field rules."""


def form_actor(form: LeadForm) -> Actor:
    return Actor("form", str(form.id), form.name, "form")


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def locked_submission(submission_id) -> Submission | None:
    """The submission, row-locked until the transaction ends, so two workers never process or
    notify one submission twice. Call it first in the job's transaction.

    The locks here are ``FOR NO KEY UPDATE`` (``key_share=True``): they exclude each other, but not
    the ``KEY SHARE`` lock that PostgreSQL's foreign-key check takes on the form when a new submission
    is stored. ``FOR UPDATE`` would make every visitor wait for the processing of the submission
    before theirs (in the benchmark, 178 submissions/s fell to 31/s while the worker ran)."""
    sid = _uuid(submission_id)
    if sid is None:
        return None
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks, and a transaction that has read cannot become a writer once another
        # has written ("database is locked"). Writing first makes this job the writer at once, waiting
        # its turn (busy_timeout) instead of failing later.
        db.session.execute(update(Submission).where(Submission.id == sid).values(status=Submission.status))
    return db.session.scalars(
        select(Submission).where(Submission.id == sid).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()


# --- processing -----------------------------------------------------------------------------------
@tasks.tenant_task(retries=3, retry_delay=10)
def process_submission(tenant_id: str, submission_id: str) -> str | None:
    """Turn a received submission into a lead, or a note on the record it duplicates; assign it and
    queue the notification. Returns the outcome, None when there was nothing to do."""
    submission = locked_submission(submission_id)
    if submission is None or submission.status != "received":
        db.session.rollback()  # release the lock
        return None
    form = db.session.scalars(select(LeadForm).where(LeadForm.id == submission.form_id)).first()
    if form is None:
        db.session.rollback()
        return None
    lock_person(submission.data or {})
    try:
        outcome = _process(submission, form, utcnow())
    except Unprocessable as exc:
        db.session.rollback()
        _set_aside(submission_id, str(exc))
        return None
    tenant = crm.current_tenant()
    current_host().hooks_for(tenant).usage_event(tenant=tenant, meter=CAPTURED_METER, quantity=1)
    db.session.commit()
    tasks.enqueue(notify_owner, str(tenant_id), str(submission.id))
    return outcome


def _process(submission: Submission, form: LeadForm, now: dt.datetime) -> str:
    actor = form_actor(form)
    data = submission.data or {}
    existing = find_existing(data)
    if existing is None:
        # The owner is chosen first and the lead created with it: one write, one audit entry, where
        # creating then assigning cost an update of the new lead too (a sixth of the statements).
        values = lead_input(form, data)
        owner_id = assignment.choose_owner(form, values_for_rules(SimpleNamespace(stage="target", **values), data),
                                           now=now)
        if owner_id is not None:
            values["owner_id"] = str(owner_id)
        record = create_lead(form, submission, values, actor)
        submission.outcome = "created"
    else:
        record = existing
        add_note(record, _("Form %(form)s submitted again", form=form.name),
                 note_body(submission, include_values=True), actor)
        submission.outcome = "attached"
        if record.owner_id is None:
            owner_id = assignment.choose_owner(form, values_for_rules(record, data), now=now)
            if owner_id is not None:
                crm.update(record, {"owner_id": str(owner_id)}, actor)
    owner_id = record.owner_id
    if isinstance(record, Contact):
        submission.contact_id = record.id
    else:
        submission.lead_id = record.id
    submission.owner_id = owner_id
    submission.assigned_at = now if owner_id is not None else None
    submission.processed_at = now
    submission.status = "processed"
    db.session.flush()
    return submission.outcome


def _set_aside(submission_id, reason: str) -> None:
    """A submission that cannot become a lead waits in the quarantine for an admin (who can release
    it once the fields are fixed) instead of failing on every sweep."""
    submission = locked_submission(submission_id)
    if submission is not None and submission.status == "received":
        submission.status = "quarantined"
        submission.spam_reason = reason[:200]
        db.session.commit()
        log.warning("submission %s set aside: %s", submission_id, reason)


def lock_person(data: dict) -> None:
    """Two submissions of one new person (same email or phone, on any form of the tenant) processed at
    the same moment would both miss each other and make two leads. Each job first takes a
    transaction-scoped advisory lock per email and phone (in sorted order: no deadlock), so the second
    waits for the first to commit and then finds its lead. Different people are processed in
    parallel. PostgreSQL only: SQLite runs one writer at a time anyway."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    email = (data.get("email") or "").strip().lower()
    phone = (data.get("phone") or "").strip()
    keys = sorted([f"email:{email}"] * bool(email) + [f"phone:{phone}"] * bool(phone))
    for key in keys:
        name = f"{tenancy.current_tenant_id()}:{key}"
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0))))


def find_existing(data: dict):
    """The lead or contact this submission duplicates: same email (case-insensitive) or same phone
    (E.164, as stored); email before phone, leads before contacts, the newest first."""
    email = (data.get("email") or "").strip().lower()
    phone = (data.get("phone") or "").strip()
    checks = []
    if email:
        checks += [(Lead, func.lower(Lead.email) == email), (Contact, func.lower(Contact.email) == email)]
    if phone:
        checks += [(Lead, Lead.phone == phone), (Contact, Contact.phone == phone)]
    for model, condition in checks:
        found = db.session.scalars(
            select(model).where(condition).order_by(model.created_at.desc(), model.id.desc()).limit(1)
        ).first()
        if found is not None:
            return found
    return None


def lead_input(form: LeadForm, data: dict) -> dict:
    values = {key: data[key] for key in CORE_FIELDS if data.get(key)}
    # A form need not ask for a name; the lead needs one.
    values["name"] = (values.get("name") or data.get("email") or data.get("phone") or data.get("company")
                      or _("Web form lead"))[:NAME_MAX]
    if form.lead_source:
        values["source"] = form.lead_source[:SOURCE_MAX]
    if data.get("custom"):
        values["custom"] = dict(data["custom"])
    return values


def create_lead(form: LeadForm, submission: Submission, values: dict, actor: Actor) -> Lead:
    """The lead with ``values`` (:func:`lead_input`, and its owner if chosen), through ``crm.create``
    (validation, audit, hooks). Values that no longer pass the tenant's field rules (a field changed
    since the visitor saw the form) are left out of the lead and kept in its note; a lead that still
    cannot be made raises ``Unprocessable``."""
    dropped: dict = {}
    try:
        lead = crm.create("leads", values, actor)
    except ValidationError as exc:
        dropped = _drop_invalid(values, exc.messages)
        try:
            lead = crm.create("leads", values, actor)
        except ValidationError as again:
            raise Unprocessable("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in _flat(again.messages).items())) from None
    body = note_body(submission, dropped=dropped)
    if body:
        subject = (_("Message from form %(form)s", form=form.name) if (submission.data or {}).get("message")
                   else _("Captured by form %(form)s", form=form.name))
        add_note(lead, subject, body, actor)
    return lead


def _flat(messages) -> dict:
    return messages if isinstance(messages, dict) else {"_schema": messages}


def _drop_invalid(values: dict, errors) -> dict:
    dropped = {}
    for key in _flat(errors):
        if key == "owner_id":  # the member chosen just now cannot own it after all: unassigned
            values.pop(key, None)
        elif key.startswith("custom.") and key[7:] in values.get("custom", {}):
            dropped[key] = values["custom"].pop(key[7:])
        elif key in values and key != "name":
            dropped[key] = values.pop(key)
    return dropped


def add_note(record, subject: str, body: str, actor: Actor):
    link = {"contact_id": str(record.id)} if isinstance(record, Contact) else {"lead_id": str(record.id)}
    return crm.create("activities", {"kind": "note", "subject": subject[:SUBJECT_MAX], "body": body[:BODY_MAX], **link},
                      actor)


def values_for_rules(record, data: dict) -> dict:
    """What assignment rules look at: the submitted values, over the record's own."""
    values = {key: getattr(record, key, None) for key in (*CORE_FIELDS, "source", "stage")}
    values.update({k: v for k, v in data.items() if k != "custom" and v not in (None, "")})
    values["custom"] = {**(getattr(record, "custom", None) or {}), **(data.get("custom") or {})}
    return values


# --- how a submission reads in a note and a mail --------------------------------------------------
def _field_labels() -> dict:
    labels = {"name": _("Name"), "email": _("Email"), "phone": _("Phone"), "company": _("Company")}
    for definition in compiled(crm.current_tenant(), "leads", "forms").definitions:
        labels[f"custom.{definition.key}"] = definition.label
    return labels


def _option_labels() -> dict:
    found = {}
    for definition in compiled(crm.current_tenant(), "leads", "forms").definitions:
        for option in definition.options:
            if isinstance(option, dict):
                found[(definition.key, str(option.get("value")))] = option.get("label") or option.get("value")
    return found


def _shown(value, key: str | None = None, options: dict | None = None) -> str:
    items = value if isinstance(value, list) else [value]
    options = options or {}
    return ", ".join(str(options.get((key, str(item)), item)) for item in items)


def value_lines(data: dict) -> list[str]:
    """``Label: value`` for every submitted value, custom fields by their labels and options."""
    labels, options = _field_labels(), _option_labels()
    lines = [f"{labels[key]}: {data[key]}" for key in CORE_FIELDS if data.get(key)]
    for key, value in (data.get("custom") or {}).items():
        if value not in (None, "", []):
            lines.append(f"{labels.get(f'custom.{key}', key)}: {_shown(value, key, options)}")
    return lines


def capture_lines(submission: Submission) -> list[str]:
    """Where the visitor came from and what they agreed to, kept with the lead."""
    lines = [f"{key}: {value}" for key, value in sorted((submission.utm or {}).items()) if value]
    if submission.referrer:
        lines.append(_("Referrer: %(url)s", url=submission.referrer))
    if submission.landing_page:
        lines.append(_("Landing page: %(url)s", url=submission.landing_page))
    if submission.consent_text:
        lines.append(_("Consent (version %(version)s): %(text)s", version=submission.consent_version,
                       text=submission.consent_text))
    return lines


def note_body(submission: Submission, include_values: bool = False, dropped: dict | None = None) -> str:
    data = submission.data or {}
    parts = []
    if data.get("message"):
        parts.append(str(data["message"]))
    if include_values:
        parts.append("\n".join([_("Submitted values:"), *value_lines(data)]))
    if dropped:
        lines = [f"{key}: {_shown(value)}" for key, value in dropped.items()]
        parts.append("\n".join([_("Not stored on the lead (no longer valid for its fields):"), *lines]))
    captured = capture_lines(submission)
    if captured:
        parts.append("\n".join(captured))
    return "\n\n".join(parts)


# --- notification ---------------------------------------------------------------------------------
@tasks.tenant_task(retries=NOTIFY_RETRIES, retry_delay=NOTIFY_RETRY_DELAY)
def notify_owner(tenant_id: str, submission_id: str) -> bool:
    """Mail the owner (or, for an unassigned lead, the managers) and the form's recipients. An SMTP
    failure raises: the queue tries again, and the sweep after that; the lead is stored meanwhile."""
    return send_notification(submission_id)


@tasks.tenant_task()
def notify_owner_again(tenant_id: str, submission_id: str) -> bool:
    """The sweep's attempt: no retries of its own, since the sweep comes back every minute (retrying
    chains started each minute would pile up while a mail server is down)."""
    return send_notification(submission_id)


def send_notification(submission_id) -> bool:
    submission = locked_submission(submission_id)
    if submission is None or submission.status != "processed" or submission.notified_at is not None:
        db.session.rollback()
        return False
    form = db.session.get(LeadForm, (submission.tenant_id, submission.form_id))
    owner = assignment.active_member(submission.owner_id)
    recipients = _recipients(form, owner)
    if recipients:
        with force_locale(_locale_of(owner)):
            subject, body = notification_text(submission, form, owner)
        mail.send(", ".join(recipients), subject, body)
    submission.notified_at = utcnow()
    db.session.commit()
    return True


def _recipients(form: LeadForm, owner) -> list[str]:
    found = [owner.user.email] if owner is not None else assignment.manager_emails()
    found += [e for e in (form.notify_emails or []) if isinstance(e, str)]
    unique = {}
    for address in (a.strip() for a in found):
        if ADDRESS.fullmatch(address):
            unique.setdefault(address.lower(), address)
    return list(unique.values())


def _locale_of(owner) -> str:
    languages = current_app.config.get("LANGUAGES", ["en"])
    locale = owner.user.locale if owner is not None else None
    return locale if locale in languages else current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def app_link(endpoint: str, **values) -> str:
    """An absolute link for a mail written outside any request (``BASE_URL`` + the route)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def record_link(submission: Submission) -> str:
    slug = crm.current_tenant().slug
    if submission.contact_id is not None:
        return app_link("ui.show_contacts", tenant_slug=slug, contact_id=submission.contact_id)
    return app_link("ui.show_leads", tenant_slug=slug, lead_id=submission.lead_id)


def notification_text(submission: Submission, form: LeadForm, owner) -> tuple[str, str]:
    data = submission.data or {}
    name = data.get("name") or data.get("email") or data.get("phone") or _("Web form lead")
    slug = crm.current_tenant().slug
    if owner is None:
        subject = _("New unassigned lead: %(name)s", name=name)
        intro = _("A lead came in through the form %(form)s and nobody is assigned to it. "
                  "Unassigned leads: %(link)s", form=form.name,
                  link=app_link("ui.list_leads", tenant_slug=slug, owner="none"))
    elif submission.reassigned_count:
        subject = _("Lead reassigned to you: %(name)s", name=name)
        intro = _("This lead from the form %(form)s was not followed up in time and is now yours.", form=form.name)
    elif submission.outcome == "attached":
        subject = _("%(name)s submitted %(form)s again", name=name, form=form.name)
        intro = _("Someone you already know submitted the form %(form)s again.", form=form.name)
    else:
        subject = _("New lead for you: %(name)s", name=name)
        intro = _("A new lead came in through the form %(form)s and is assigned to you.", form=form.name)
    parts = [intro, "\n".join(value_lines(data))]
    if data.get("message"):
        parts.append("\n".join([_("Message:"), str(data["message"])]))
    parts.append(_("Open it: %(link)s", link=record_link(submission)))
    return subject, "\n\n".join(p for p in parts if p)


# --- the sweep ------------------------------------------------------------------------------------
def tenants_with_plugin() -> list[Tenant]:
    """Active tenants that switched the plugin on (each asked under its own scope, as the host does)."""
    host = current_host()
    tenants = list(db.session.scalars(select(Tenant).where(Tenant.status == "active").order_by(Tenant.slug)))
    found = [t for t in tenants if host.is_enabled(t, PLUGIN)]
    db.session.rollback()  # end the reading transaction before the per-tenant work
    return found


@tasks.periodic_task(tasks.crontab(minute="*"))
def sweep() -> None:
    sweep_submissions()


def sweep_submissions(now: dt.datetime | None = None) -> dict:
    """Queue again submissions still "received" a minute after arrival, and notifications still
    unsent five minutes after processing (for two days; the lead waits in the CRM all along).
    Returns how many of each were queued."""
    now = assignment.aware(now).astimezone(dt.timezone.utc) if now else utcnow()
    totals = {"processing": 0, "notifications": 0}
    for tenant in tenants_with_plugin():
        with tenancy.tenant_scope(tenant.id):
            for key, count in requeue(tenant, now).items():
                totals[key] += count
    return totals


def requeue(tenant: Tenant, now: dt.datetime) -> dict:
    waiting = list(db.session.scalars(
        select(Submission.id).where(Submission.status == "received", Submission.received_at < now - RECEIVED_GRACE)
        .order_by(Submission.received_at).limit(SWEEP_BATCH)
    ))
    unsent = list(db.session.scalars(
        select(Submission.id).where(Submission.status == "processed", Submission.notified_at.is_(None),
                                    Submission.processed_at < now - NOTIFY_GRACE,
                                    Submission.processed_at > now - NOTIFY_GIVE_UP)
        .order_by(Submission.processed_at).limit(SWEEP_BATCH)
    ))
    db.session.rollback()
    for submission_id in waiting:
        tasks.enqueue(process_submission, str(tenant.id), str(submission_id))
    for submission_id in unsent:
        tasks.enqueue(notify_owner_again, str(tenant.id), str(submission_id))
    return {"processing": len(waiting), "notifications": len(unsent)}
