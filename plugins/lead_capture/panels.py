"""The lead's (and contact's) page shows how it was captured: the submissions of the tenant's forms
that created it or were attached to it, with the form, the visit's context (UTM, referrer, landing
page), the consent text agreed to, and the speed to lead."""
from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from rapport import hookimpl
from rapport.db import db

from .models import LeadForm, Submission

SHOWN = 10  # the latest submissions; older ones stay in the database
LINKS = {"leads": Submission.lead_id, "contacts": Submission.contact_id}


@hookimpl
def record_panels(tenant, record_type, record, member):  # noqa: ARG001 -- the record page checked access
    link = LINKS.get(record_type)
    if link is None:
        return []
    rows = db.session.execute(
        select(Submission, LeadForm.name)
        .join(LeadForm, (LeadForm.tenant_id == Submission.tenant_id) & (LeadForm.id == Submission.form_id))
        .where(link == record.id, Submission.status == "processed")
        .order_by(Submission.received_at.desc())
        .limit(SHOWN)
    ).all()
    if not rows:
        return []
    html = render_template("lead_capture/record_panel.html", rows=rows)
    return [{"title": str(_l("Captured by web forms")), "html": Markup(html)}]
