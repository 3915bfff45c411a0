"""Record pages: the fields, related records, stage control, activity logging and the timeline."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import abort, current_app, g, render_template, request, url_for

from .. import access, listing, tenancy
from ..db import db
from ..fields import forms as custom_forms
from ..models import STAGES
from . import forms, lookups, timeline
from .record_types import KIND_LABELS, RECORD_TYPES, RecordType

RELATED_LIMIT = 20
# What a record page lists below its fields: (record type, the reference column pointing back).
RELATED = {
    "accounts": (("contacts", "account_id"), ("leads", "account_id")),
    "contacts": (("leads", "contact_id"),),
    "leads": (),
    "activities": (),
}


def load(rtype: RecordType, record_id: uuid.UUID):
    """The record of this tenant with that id, if the member may see it; else 404 (never 403, so
    a record's existence does not leak)."""
    record = db.session.get(rtype.model, (tenancy.current_tenant_id(), record_id))
    if record is None or not access.can_see(record, g.member):
        abort(404)
    return record


@dataclass
class Related:
    """Records that point at the page's record, e.g. an account's contacts."""

    record_type: str
    page: listing.Page
    add_url: str  # a new record already linked to this one
    all_url: str  # the list filtered to this record


def related_lists(rtype: RecordType, record) -> list[Related]:
    """First pages of the records pointing at this one, each with "add" and "see all" links."""
    found = []
    for record_type, column in RELATED[rtype.key]:
        link = {column: str(record.id)}
        if getattr(record, "account_id", None):  # a contact's new lead belongs to its account too
            link.setdefault("account_id", str(record.account_id))
        page = listing.fetch(record_type, {column: str(record.id), "limit": str(RELATED_LIMIT)}, g.member)
        other = RECORD_TYPES[record_type]
        found.append(Related(record_type, page, url_for(other.endpoint("new"), **link),
                             url_for(other.endpoint("list"), **{column: str(record.id)})))
    return found


def view(rtype: RecordType, record_id: uuid.UUID):
    return show(rtype, load(rtype, record_id))


def activity_prefill(rtype: RecordType, record) -> dict[str, str]:
    """Hidden fields of the "log an activity" form: the link to this record."""
    if rtype.key == "activities":
        return {}
    return {rtype.id_arg: str(record.id)}


def custom_values(rtype: RecordType, record, people: lookups.People) -> list[custom_forms.Shown]:
    """The custom fields the member may see (rapport.fields decides which), with their values."""
    return custom_forms.shown(record.custom if rtype.key != "activities" else None, forms.custom_widgets(rtype),
                              lambda value: people.name(lookups.as_uuid(value)))


def show(rtype: RecordType, record, status: int = 200, stage_errors=None):
    member = g.member
    people = lookups.People()
    return render_template(
        "ui/record.html",
        rtype=rtype,
        record=record,
        people=people,
        refs=lookups.reference_titles([record], member),
        custom=custom_values(rtype, record, people),
        related=related_lists(rtype, record),
        timeline=timeline.build(record, member, people),
        action_labels=timeline.ACTION_LABELS,
        channel_labels=timeline.CHANNEL_LABELS,
        can_edit=access.can_edit(record, member),
        can_delete=member.can("records.delete") and access.can_edit(record, member),
        can_write=member.can("records.write"),
        stages=STAGES,
        stage_errors=stage_errors or {},
        kinds=list(KIND_LABELS.items()),
        activity_links=activity_prefill(rtype, record),
        here=request.path,
        panels=current_app.extensions["rapport.plugins"].record_panels(g.tenant, rtype.key, record, member),
    ), status
