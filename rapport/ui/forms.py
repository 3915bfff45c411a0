"""Create, edit and delete forms, the lead stage control and "mark done", all through ``crm``.

A failed form answers 422 with each field's reason beside it and what was typed kept; the
transaction is rolled back, so nothing half-written remains. ``crm.Forbidden`` answers 403.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from .. import access, crm
from ..db import db, utcnow
from ..fields import CUSTOM_RECORD_TYPES
from ..fields import forms as custom_forms
from . import lookups, records
from .formatting import aware
from .record_types import KIND_LABELS, RECORD_TYPES, REFERENCE_TYPES, STAGE_LABELS, RecordType, title
from .urls import record_url, safe_next

PREFILLABLE = set(REFERENCE_TYPES) | {"kind", "stage"}


# --- values between forms, records and crm ------------------------------------------------------

def _utc_input(value: str) -> str:
    """A datetime-local value (no zone) as UTC, which the schema needs; bad text is left for the
    schema to name."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return aware(parsed).isoformat()


def form_input(rtype: RecordType, record=None) -> dict:
    """The posted form as crm input. Browsers post every input, empty ones as "", so a cleared
    field is cleared; a field missing from the post is left as it is."""
    data = {f.name: request.form[f.name] for f in rtype.fields if f.input != "checkbox" and f.name in request.form}
    if rtype.key == "activities":
        if data.get("due_at"):
            data["due_at"] = _utc_input(data["due_at"])
        done_before = record.done_at if record is not None else None
        if request.form.get("done"):
            data["done_at"] = aware(done_before or utcnow()).isoformat()
        else:
            data["done_at"] = None
    if rtype.key in CUSTOM_RECORD_TYPES:
        data["custom"] = custom_forms.from_form(request.form, custom_widgets(rtype), editing=record is not None)
    return data


def custom_widgets(rtype: RecordType) -> list[custom_forms.Widget]:
    """The tenant's custom fields of this type that the member sees (none for activities)."""
    if rtype.key not in CUSTOM_RECORD_TYPES:
        return []
    return custom_forms.widgets(crm.current_tenant(), rtype.key, g.member)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return aware(value).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    return value


def record_values(rtype: RecordType, record) -> dict[str, str]:
    values = {f.name: _text(getattr(record, f.name, None)) for f in rtype.fields if f.input != "checkbox"}
    if rtype.key == "activities" and record.done_at:
        values["done"] = "on"
    values.update(custom_forms.form_values(getattr(record, "custom", None), custom_widgets(rtype)))
    return values


def new_values(rtype: RecordType) -> dict[str, str]:
    """A blank form: owned by the member, with links given in the URL (e.g. from an account page)."""
    values = {name: request.args[name] for name in PREFILLABLE if request.args.get(name)}
    values["owner_id"] = str(g.member.id)
    widgets = custom_widgets(rtype)
    values.update(custom_forms.form_values({w.spec.key: w.spec.default for w in widgets}, widgets))
    return values


def _choices(rtype: RecordType, values) -> dict:
    """Options of each select: (options, list cut short?)."""
    people = lookups.People()
    choices = {}
    for f in rtype.fields:
        if f.input == "owner":
            options = people.assignable(g.member)
            current = lookups.as_uuid(values.get(f.name))
            if current is not None and str(current) not in dict(options):
                options.append((str(current), people.name(current)))
            choices[f.name] = (options, False)
        elif f.input == "reference":
            choices[f.name] = lookups.reference_choices(f.name, g.member, values.get(f.name))
        elif f.input == "stage":
            choices[f.name] = (list(STAGE_LABELS.items()), False)
        elif f.input == "kind":
            choices[f.name] = (list(KIND_LABELS.items()), False)
    return choices


def render_form(rtype: RecordType, values, errors=None, record=None, status: int = 200):
    errors = errors or {}
    widgets = custom_widgets(rtype)
    labels = {f.name: f.label for f in rtype.fields} | {w.name: w.label for w in widgets}
    if record is None:
        heading = _("New %(type)s", type=rtype.singular)
    else:
        heading = _("Edit %(type)s: %(name)s", type=rtype.singular, name=title(record))
    return render_template(
        "ui/form.html",
        rtype=rtype,
        record=record,
        heading=heading,
        labels=labels,
        values=values,
        errors=errors,
        other_errors={k: v for k, v in errors.items() if k not in labels},
        choices=_choices(rtype, values),
        custom_fields=widgets,
        custom_values=custom_forms.posted_values(values, widgets) if hasattr(values, "getlist") else values,
        members=lookups.People().active() if any(w.input == "member" for w in widgets) else [],
        next=request.values.get("next", ""),
    ), status


def _failed(rtype: RecordType, exc: ValidationError, record=None):
    db.session.rollback()
    messages = exc.normalized_messages()
    return render_form(rtype, request.form, messages, record, 422)


# --- views --------------------------------------------------------------------------------------

def new(rtype: RecordType):
    if request.method == "GET":
        return render_form(rtype, new_values(rtype))
    try:
        record = crm.create(rtype.key, form_input(rtype), g.actor, g.member)
        db.session.commit()
    except ValidationError as exc:
        return _failed(rtype, exc)
    flash(_("%(type)s created.", type=rtype.singular))
    return redirect(safe_next(record_url(record)))


def _editable(rtype: RecordType, record_id: uuid.UUID):
    """Load (404 first, so nothing leaks), then check the member may change it (403)."""
    record = records.load(rtype, record_id)
    if not access.can_edit(record, g.member):
        abort(403)
    return record


def edit(rtype: RecordType, record_id: uuid.UUID):
    record = _editable(rtype, record_id)
    if request.method == "GET":
        return render_form(rtype, record_values(rtype, record), record=record)
    data = form_input(rtype, record)
    try:
        # The form holds every field, so check it whole (crm.update checks a partial change only).
        crm.validate(rtype.key, data, actor=g.actor, member=g.member)
        crm.update(record, data, g.actor, g.member)
        db.session.commit()
    except ValidationError as exc:
        return _failed(rtype, exc, record)
    except crm.Forbidden:
        db.session.rollback()
        abort(403)
    flash(_("%(type)s saved.", type=rtype.singular))
    return redirect(record_url(record))


def delete(rtype: RecordType, record_id: uuid.UUID):
    record = records.load(rtype, record_id)
    if not (g.member.can("records.delete") and access.can_edit(record, g.member)):
        abort(403)
    if request.method == "GET":
        return render_template("ui/delete.html", rtype=rtype, record=record)
    try:
        crm.delete(record, g.actor, g.member)
        db.session.commit()
    except crm.Forbidden:
        db.session.rollback()
        abort(403)
    flash(_("%(type)s deleted.", type=rtype.singular))
    return redirect(url_for(rtype.endpoint("list")))


def change_stage(lead_id: uuid.UUID):
    rtype = RECORD_TYPES["leads"]
    lead = _editable(rtype, lead_id)
    try:
        crm.update(lead, {"stage": request.form.get("stage", "")}, g.actor, g.member)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return records.show(rtype, lead, 422, stage_errors=exc.normalized_messages())
    except crm.Forbidden:
        db.session.rollback()
        abort(403)
    flash(_("Stage is now %(stage)s.", stage=STAGE_LABELS[lead.stage]))
    return redirect(record_url(lead))


def mark_done(activity_id: uuid.UUID):
    activity = _editable(RECORD_TYPES["activities"], activity_id)
    if activity.done_at is None:
        try:
            crm.update(activity, {"done_at": utcnow().isoformat()}, g.actor, g.member)
            db.session.commit()
        except crm.Forbidden:
            db.session.rollback()
            abort(403)
        flash(_("Marked done: %(subject)s", subject=activity.subject))
    return redirect(safe_next(record_url(activity)))
