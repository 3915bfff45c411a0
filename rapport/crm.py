"""Creating, changing and deleting customer records: validation, references, record rules, stage
history, audit and plugin events in one place, for the UI, the API, CSV import and plugins alike.

Functions flush but never commit: the caller owns the transaction.
"""
from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from . import access, audit, tenancy
from .db import db, new_id, utcnow
from .fields import CUSTOM_RECORD_TYPES, audience_of, validate_custom
from .models import Account, Contact, Lead, LeadStageChange, Membership, Tenant
from .models.records import RECORD_MODELS
from .schemas import INPUT_SCHEMAS

REFERENCES = {"account_id": Account, "contact_id": Contact, "lead_id": Lead}


class Forbidden(Exception):
    """The member may not do this to this record."""


def current_tenant() -> Tenant:
    tenant = g.get("tenant")
    if tenant is None or tenant.id != tenancy.current_tenant_id():
        tenant = db.session.get(Tenant, tenancy.current_tenant_id())
        if tenant is not None:
            # The identity map holds objects weakly: outside a request (a task, a command) nothing
            # else keeps the tenant, so every call read it again (14 queries per form submission
            # processed). The session keeps it now; after a commit it is expired and read once more.
            db.session.info.setdefault("rapport.tenants", {})[tenant.id] = tenant
    return tenant


def _hooks():
    return current_app.extensions["rapport.plugins"].hooks_for(current_tenant())


def validate(record_type: str, data: dict, partial: bool = False, *, actor=None, member=None, record=None) -> dict:
    """Validate ``data`` (core fields and ``custom`` values, by the tenant's field definitions) and
    check that every referenced row exists in this tenant. ``record`` is given on update."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": [_("Send a JSON object.")]})
    values, errors = {}, {}
    try:
        values = INPUT_SCHEMAS[record_type]().load(data, partial=partial)
    except ValidationError as exc:
        errors.update(exc.messages)
    if record_type in CUSTOM_RECORD_TYPES and (record is None or "custom" in data):
        try:
            values["custom"] = validate_custom(
                record_type, data.get("custom"), current_tenant(),
                audience_of(actor), member, current=None if record is None else dict(record.custom or {}),
            )
        except ValidationError as exc:
            errors.update(exc.messages)
    if errors:
        raise ValidationError(errors)
    for field, model in REFERENCES.items():
        ref = values.get(field)
        if ref is not None and db.session.get(model, (tenancy.current_tenant_id(), ref)) is None:
            errors[field] = [_("No such record in this workspace.")]
    owner = values.get("owner_id")
    if owner is not None:
        member = db.session.get(Membership, (tenancy.current_tenant_id(), owner))
        if member is None or member.status != "active":
            errors["owner_id"] = [_("No such member in this workspace.")]
    if errors:
        raise ValidationError(errors)
    if values.get("custom") is None:
        values.pop("custom", None)
    return values


def _custom_changes(before: dict | None, after: dict | None) -> dict:
    """Audit custom values field by field: ``custom.<key>`` -> [old, new]."""
    before, after = before or {}, after or {}
    return {f"custom.{k}": (before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def _snapshot(record, fields) -> dict:
    return {f: getattr(record, f) for f in fields}


def create(record_type: str, data: dict, actor, member: Membership | None = None):
    values = validate(record_type, data, actor=actor, member=member)
    if member is not None:
        values.setdefault("owner_id", member.id if not member.can("records.edit_all") else None)
        if not access.can_assign(values.get("owner_id"), member):
            raise ValidationError({"owner_id": [_("You can assign records only to yourself.")]})
    record = RECORD_MODELS[record_type](id=new_id(), **values)
    db.session.add(record)
    db.session.flush()
    if isinstance(record, Lead):
        _stage_history(record, None, record.stage or "target", actor)
    created = {k: (None, v) for k, v in values.items() if k != "custom"}
    audit.log(actor, "create", record_type, record.id, {**created, **_custom_changes({}, values.get("custom"))})
    hooks = _hooks()
    hooks.record_created(tenant=current_tenant(), record_type=record_type, record=record, actor=actor)
    hooks.usage_event(tenant=current_tenant(), meter="records.created", quantity=1)
    return record


def update(record, data: dict, actor, member: Membership | None = None):
    record_type = record.record_type
    if member is not None and not access.can_edit(record, member):
        raise Forbidden()
    values = validate(record_type, data, partial=True, actor=actor, member=member, record=record)
    if member is not None and "owner_id" in values and not access.can_assign(values["owner_id"], member):
        raise ValidationError({"owner_id": [_("You can assign records only to yourself.")]})
    before = _snapshot(record, values)
    old_stage = getattr(record, "stage", None)
    changes = {k: (before[k], values[k]) for k in values if before[k] != values[k]}
    if not changes:
        return record
    for key, (_old, new) in changes.items():
        setattr(record, key, new)
    record.updated_at = utcnow()
    db.session.flush()
    if isinstance(record, Lead) and "stage" in changes:
        record.stage_changed_at = utcnow()
        _stage_history(record, old_stage, record.stage, actor)
    logged = {k: v for k, v in changes.items() if k != "custom"}
    if "custom" in changes:
        logged.update(_custom_changes(*changes["custom"]))
    audit.log(actor, "update", record_type, record.id, logged)
    _hooks().record_updated(tenant=current_tenant(), record_type=record_type, record=record, changes=changes, actor=actor)
    return record


def delete(record, actor, member: Membership | None = None) -> None:
    if member is not None and not (member.can("records.delete") and access.can_edit(record, member)):
        raise Forbidden()
    record_type, record_id = record.record_type, record.id
    snapshot = {c.key: getattr(record, c.key) for c in record.__table__.columns if c.key not in ("tenant_id", "id")}
    _detach(record)
    db.session.delete(record)
    db.session.flush()
    audit.log(actor, "delete", record_type, record_id, {k: (v, None) for k, v in snapshot.items() if v not in (None, {}, "")})
    _hooks().record_deleted(tenant=current_tenant(), record_type=record_type, record_id=record_id, actor=actor)


def _detach(record) -> None:
    """Clear references to a record before it goes (``SET NULL`` on a composite key would null tenant_id)."""
    if isinstance(record, Account):
        for model in (Contact, Lead):
            for row in db.session.scalars(select(model).where(model.account_id == record.id)):
                row.account_id = None
    elif isinstance(record, Contact):
        for row in db.session.scalars(select(Lead).where(Lead.contact_id == record.id)):
            row.contact_id = None
    db.session.flush()


def _stage_history(lead: Lead, from_stage: str | None, to_stage: str, actor) -> None:
    db.session.add(LeadStageChange(lead_id=lead.id, from_stage=from_stage, to_stage=to_stage, changed_by=actor.label))
    if from_stage is not None:
        _hooks().lead_stage_changed(
            tenant=current_tenant(), lead=lead, from_stage=from_stage, to_stage=to_stage, actor=actor
        )
