"""Managing custom-field definitions: create, change, archive, restore, delete.

Every change bumps the tenant's ``fields_version`` (so every worker recompiles on its next request)
and is written to the audit log as a ``field_definitions`` record. Callers commit.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from .. import audit
from ..db import db
from ..models import FieldDefinition
from . import AUDIENCES, CUSTOM_RECORD_TYPES, field_types
from .types import MAX_OPTIONS, CleanString, OptionSchema

MAX_FIELDS = 500
KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Use 1-64 lower-case letters, digits and underscores, starting with a letter.")
CORE_COLUMNS = {"id", "tenant_id", "owner_id", "custom", "created_at", "updated_at", "name", "email", "phone"}


class ShowInSchema(Schema):
    staff = fields.Boolean(load_default=True)
    api = fields.Boolean(load_default=True)
    forms = fields.Boolean(load_default=False)
    portal = fields.String(load_default="none", validate=validate.OneOf(["none", "read", "edit"]))


class DefinitionIn(Schema):
    key = fields.String(required=True, validate=KEY)
    label = CleanString(required=True, validate=validate.Length(1, 200))
    help_text = CleanString(load_default="", validate=validate.Length(max=1000))
    type = fields.String(required=True)
    required = fields.Boolean(load_default=False)
    default = fields.Raw(load_default=None, allow_none=True)
    position = fields.Integer(strict=True, validate=validate.Range(0, 100_000))
    options = fields.List(fields.Nested(OptionSchema), load_default=list, validate=validate.Length(max=MAX_OPTIONS))
    config = fields.Dict(keys=fields.String(), load_default=dict)
    show_in = fields.Nested(ShowInSchema, load_default=lambda: ShowInSchema().load({}))
    roles = fields.List(CleanString(validate=validate.Length(1, 64)), load_default=list)
    pii = fields.Boolean(load_default=False)
    filterable = fields.Boolean(load_default=False)


# What may change on a live field without a conversion (type and key never change here).
CHANGEABLE = ("label", "help_text", "required", "default", "position", "options", "config", "show_in", "roles",
              "pii", "filterable")


def _check(values: dict, record_type: str) -> dict:
    """Type-specific checks shared by create and update; returns cleaned values."""
    types = field_types()
    kind = types.get(values["type"])
    if kind is None:
        raise ValidationError({"type": [f"Choose one of: {', '.join(sorted(types))}."]})
    errors = {}
    options = values.get("options") or []
    if values["type"] in ("select", "multi_select"):
        if not options:
            errors["options"] = ["Give at least one option."]
        if len({o["value"] for o in options}) != len(options):
            errors["options"] = ["Option values must be unique."]
    elif options:
        errors["options"] = ["Only select fields have options."]
    try:
        values["config"] = kind.check_config(values.get("config") or {}, options)
    except ValidationError as exc:
        errors["config"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if values.get("default") is not None:
        probe = FieldDefinition(**{k: values.get(k) for k in ("key", "type", "options", "config")}, required=False)
        try:
            values["default"] = kind.field(probe).deserialize(values["default"])
        except ValidationError as exc:
            raise ValidationError({"default": exc.messages}) from None
    return values


def _bump(tenant) -> None:
    tenant.fields_version = (tenant.fields_version or 0) + 1


def create_definition(tenant, record_type: str, data: dict, actor) -> FieldDefinition:
    if record_type not in CUSTOM_RECORD_TYPES:
        raise LookupError(record_type)
    values = _check(DefinitionIn().load(data), record_type)
    errors = {}
    if values["key"] in CORE_COLUMNS:
        errors["key"] = ["This key is a built-in field of the record."]
    taken = db.session.scalar(
        select(FieldDefinition.status).where(FieldDefinition.record_type == record_type, FieldDefinition.key == values["key"])
    )
    if taken is not None:
        errors["key"] = [str(_l("This key is used (or was used) by another field of this record type."))]
    count = db.session.scalar(
        select(func.count()).select_from(FieldDefinition)
        .where(FieldDefinition.record_type == record_type, FieldDefinition.status != "deleted")
    )
    if count >= MAX_FIELDS:
        errors["_schema"] = [f"A record type has at most {MAX_FIELDS} custom fields."]
    if errors:
        raise ValidationError(errors)
    if "position" not in values:
        values["position"] = (db.session.scalar(
            select(func.max(FieldDefinition.position)).where(FieldDefinition.record_type == record_type)) or 0) + 10
    definition = FieldDefinition(record_type=record_type, status="active", **values)
    db.session.add(definition)
    db.session.flush()
    _bump(tenant)
    audit.log(actor, "create", "field_definitions", definition.id, {k: (None, v) for k, v in values.items()})
    return definition


def update_definition(tenant, definition: FieldDefinition, data: dict, actor, *, retype: bool = False) -> FieldDefinition:
    """Change a live field. The key is fixed; so is the type, except for ``rapport.fields.changes``,
    which passes ``retype=True`` after converting the stored values. Every other attribute may change."""
    values = checked_update(definition, data, retype=retype)
    changeable = (*CHANGEABLE, "type") if retype else CHANGEABLE
    changes = {k: (getattr(definition, k), values[k]) for k in changeable if k in values and values[k] != getattr(definition, k)}
    for key, (_old, new) in changes.items():
        setattr(definition, key, new)
    if changes:
        _bump(tenant)
        audit.log(actor, "update", "field_definitions", definition.id, changes)
    return definition


def checked_update(definition: FieldDefinition, data: dict, *, retype: bool = False) -> dict:
    """The definition's attributes after ``data`` is applied, validated; nothing is written."""
    fixed = {k for k in (("key",) if retype else ("key", "type")) if k in data and data[k] != getattr(definition, k)}
    if fixed:
        raise ValidationError({k: ["Cannot be changed here."] for k in fixed})
    current = {k: getattr(definition, k) for k in ("key", "label", "type", *CHANGEABLE)}
    current["show_in"] = {**ShowInSchema().load({}), **(current["show_in"] or {})}
    return _check(DefinitionIn().load({**current, **data}), definition.record_type)


def set_status(tenant, definition: FieldDefinition, status: str, actor) -> FieldDefinition:
    """Archive (hidden, values kept), restore, or delete (values removed, key kept reserved)."""
    if status not in ("active", "archived", "deleted") or definition.status == "deleted":
        raise ValidationError({"status": ["A deleted field cannot change."]})
    old = definition.status
    if status == "deleted":
        _remove_values(definition)
    definition.status = status
    _bump(tenant)
    audit.log(actor, "update", "field_definitions", definition.id, {"status": (old, status)})
    return definition


def _remove_values(definition: FieldDefinition) -> int:
    from ..models.records import RECORD_MODELS

    model = RECORD_MODELS[definition.record_type]
    removed = 0
    for record in db.session.scalars(select(model).execution_options(yield_per=1000)):
        if record.custom and definition.key in record.custom:
            record.custom = {k: v for k, v in record.custom.items() if k != definition.key}
            removed += 1
    db.session.flush()
    return removed


__all__ = ["AUDIENCES", "DefinitionIn", "checked_update", "create_definition", "update_definition", "set_status", "MAX_FIELDS"]
