"""The quarantine: submissions held back as suspected spam (honeypot, too fast, no token) or set
aside by processing, for an admin (``forms.manage``) to review. Release sends one on to processing
like any genuine submission; discard keeps it, marked "discarded", for the record. Nothing here
deletes a submission."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from rapport import audit, hookimpl
from rapport.db import db
from rapport.pipeline import require

from . import intake
from .abuse import REASON_LABELS
from .models import LeadForm, Submission

PERMISSION = "forms.manage"
ENDPOINT = "lead_capture_quarantine"
AUDIT_RECORD_TYPE = "lead_submissions"
PAGE_SIZE = 100
QUARANTINED, RECEIVED, DISCARDED = "quarantined", "received", "discarded"

bp = Blueprint(ENDPOINT, __name__, url_prefix="/t/<tenant_slug>/admin/forms/quarantine", template_folder="templates")


@hookimpl(specname="menu_items")
def quarantine_menu_items(member):
    """The quarantine's entry in the administration menu (a distinct function name: the plugin's
    modules each contribute their own entries)."""
    return [{"section": "admin", "label": _l("Quarantined submissions"), "endpoint": f"{ENDPOINT}.index",
             "permission": PERMISSION}]


def quarantined() -> tuple[list[Submission], int]:
    """The newest quarantined submissions (one page) and how many there are in all."""
    where = Submission.status == QUARANTINED
    rows = db.session.scalars(
        select(Submission).where(where).order_by(Submission.received_at.desc(), Submission.id.desc()).limit(PAGE_SIZE)
    )
    total = db.session.scalar(select(func.count()).select_from(Submission).where(where))
    return list(rows), total


def shown_data(submission: Submission, labels: dict) -> list[tuple[str, str]]:
    """``(label, value)`` pairs of what the visitor sent, in the form's order where it still asks them."""
    data = dict(submission.data or {})
    custom = data.pop("custom", None) or {}
    pairs = [(labels.get(key, key), value) for key, value in data.items()]
    pairs += [(labels.get(f"custom.{key}", key), value) for key, value in custom.items()]
    return [(label, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for label, v in pairs]


def reason_label(reason: str | None) -> str:
    """The label of a spam check, or the reason processing gave when it set the submission aside."""
    return str(REASON_LABELS[reason]) if reason in REASON_LABELS else (reason or "")


@bp.get("")
@require(PERMISSION)
def index():
    rows, total = quarantined()
    forms = {f.id: f for f in db.session.scalars(select(LeadForm).where(LeadForm.id.in_(list({r.form_id for r in rows}))))}
    labels = {fid: {a.name: a.label for a in intake.asked_fields(f, g.tenant)} for fid, f in forms.items()}
    items = [{"submission": r, "form": forms.get(r.form_id), "reason": reason_label(r.spam_reason),
              "data": shown_data(r, labels.get(r.form_id, {}))} for r in rows]
    return render_template("lead_capture/quarantine.html", items=items, total=total, page_size=PAGE_SIZE)


def _decide(submission_id: uuid.UUID, status: str):
    """Move a quarantined submission to ``status`` (audited, committed); None when it is no longer in
    the quarantine (another admin has just handled it). 404 for no such submission in this tenant
    (another tenant's answers exactly the same)."""
    submission = db.session.scalar(select(Submission).where(Submission.id == submission_id))
    if submission is None:
        abort(404)
    if submission.status != QUARANTINED:
        return None
    submission.status = status
    audit.log(g.actor, "update", AUDIT_RECORD_TYPE, submission.id, {"status": (QUARANTINED, status)})
    db.session.commit()
    return submission


@bp.post("/<uuid:submission_id>/release")
@require(PERMISSION)
def release(submission_id: uuid.UUID):
    submission = _decide(submission_id, RECEIVED)
    if submission is None:
        flash(_("That submission is no longer in the quarantine."))
    else:
        intake.enqueue_processing(g.tenant.id, submission.id)
        flash(_("Submission released: it becomes a lead like any other."))
    return redirect(url_for(f"{ENDPOINT}.index"), 303)


@bp.post("/<uuid:submission_id>/discard")
@require(PERMISSION)
def discard(submission_id: uuid.UUID):
    submission = _decide(submission_id, DISCARDED)
    flash(_("That submission is no longer in the quarantine.") if submission is None
          else _("Submission discarded. It is kept for the record but will not become a lead."))
    return redirect(url_for(f"{ENDPOINT}.index"), 303)
