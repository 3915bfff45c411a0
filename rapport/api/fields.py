"""``/fields/<record_type>``: the tenant's custom-field definitions (read with ``records.read``,
change with ``fields.manage``).

A PATCH goes through :mod:`rapport.fields.changes`: ``?dry_run=true`` answers how many records the
change affects (and, for a type change, which values would not convert) without writing anything.
"""
from __future__ import annotations

from flask import g, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select

from ..db import db
from ..fields import CUSTOM_RECORD_TYPES
from ..fields.changes import apply_change, impact, plan
from ..fields.definitions import DefinitionIn, create_definition, set_status
from ..models import FieldDefinition
from .auth import needs
from .blueprint import blp, json_response, problems
from .body import json_body
from .errors import ApiProblem

TAGS = ["fields"]
STATUSES = ("active", "archived", "deleted")
COLLECTION = "/fields/<record_type>"
ITEM = "/fields/<record_type>/<field_key>"
PUBLIC = ("key", "label", "help_text", "type", "required", "default", "position", "options", "config", "show_in",
          "roles", "pii", "filterable", "status")


class FieldDefinitionSchema(Schema):
    """A custom-field definition as the API shows it."""

    key = fields.String()
    label = fields.String()
    help_text = fields.String()
    type = fields.String()
    required = fields.Boolean()
    default = fields.Raw(allow_none=True)
    position = fields.Integer()
    options = fields.List(fields.Dict())
    config = fields.Dict()
    show_in = fields.Dict()
    roles = fields.List(fields.String())
    pii = fields.Boolean()
    filterable = fields.Boolean()
    status = fields.String()


class FieldDefinitionListSchema(Schema):
    items = fields.List(fields.Nested(FieldDefinitionSchema))


class ChangeImpactSchema(Schema):
    affected = fields.Integer()
    sample = fields.List(fields.String())
    unconvertible = fields.List(fields.Dict())
    unconvertible_count = fields.Integer()


def dump_definition(definition: FieldDefinition) -> dict:
    return {k: getattr(definition, k) for k in PUBLIC}


def _record_type(record_type: str) -> str:
    if record_type not in CUSTOM_RECORD_TYPES:
        raise ApiProblem(404, _("Not found"), _("There is no record type %(name)s with custom fields.", name=record_type))
    return record_type


def load_definition(record_type: str, key: str) -> FieldDefinition:
    """The tenant's definition (active, archived or deleted), else 404."""
    found = db.session.scalar(select(FieldDefinition).where(
        FieldDefinition.record_type == _record_type(record_type), FieldDefinition.key == key))
    if found is None:
        raise ApiProblem(404, _("Not found"), _("There is no field %(key)s here.", key=key))
    return found


def _flag(name: str) -> bool:
    """A yes/no query parameter; anything else is refused, so a mistyped ``dry_run`` never writes."""
    value = request.args.get(name, "").lower()
    if value not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValidationError({name: [_("Use true or false.")]})
    return value in ("1", "true", "yes")


def _location(definition: FieldDefinition) -> str:
    return url_for("api.get_field", record_type=definition.record_type, field_key=definition.key)


STATUS_PARAM = {"in": "query", "name": "status", "required": False,
                "schema": {"type": "string", "enum": list(STATUSES)}}
DRY_RUN_PARAM = {"in": "query", "name": "dry_run", "required": False, "schema": {"type": "boolean"},
                 "description": "Count the records the change affects, and list values that would not convert; write nothing."}
CONFIRM_PARAM = {"in": "query", "name": "confirm", "required": True, "schema": {"type": "string"},
                 "description": "The field's key, typed again: deleting removes every stored value."}


def _body_doc(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


@blp.route(COLLECTION, methods=["GET"], endpoint="list_fields", tags=TAGS)
@blp.doc(operationId="listFields", summary="List the custom fields of a record type", parameters=[STATUS_PARAM])
@blp.alt_response(200, schema=FieldDefinitionListSchema, success=True)
@problems(401, 403, 404, 422)
@needs("records.read")
def list_fields(record_type):
    stmt = select(FieldDefinition).where(FieldDefinition.record_type == _record_type(record_type))
    status = request.args.get("status")
    if status is not None:
        if status not in STATUSES:
            raise ValidationError({"status": [_("Choose one of: %(names)s.", names=", ".join(STATUSES))]})
        stmt = stmt.where(FieldDefinition.status == status)
    else:
        stmt = stmt.where(FieldDefinition.status != "deleted")
    rows = db.session.scalars(stmt.order_by(FieldDefinition.position, FieldDefinition.key))
    return json_response({"items": [dump_definition(d) for d in rows]})


@blp.route(COLLECTION, methods=["POST"], endpoint="create_field", tags=TAGS)
@blp.doc(operationId="createField", summary="Add a custom field", requestBody=_body_doc(DefinitionIn))
@blp.alt_response(201, schema=FieldDefinitionSchema, success=True)
@problems(400, 401, 403, 404, 415, 422)
@needs("fields.manage")
def create_field(record_type):
    _record_type(record_type)
    data = json_body()
    if not isinstance(data, dict):
        raise ValidationError({"_schema": [_("Send a JSON object.")]})
    definition = create_definition(g.tenant, record_type, data, g.actor)
    db.session.commit()
    return json_response(dump_definition(definition), 201, {"Location": _location(definition)})


@blp.route(ITEM, methods=["GET"], endpoint="get_field", tags=TAGS)
@blp.doc(operationId="getField", summary="Read a custom field")
@blp.alt_response(200, schema=FieldDefinitionSchema, success=True)
@problems(401, 403, 404)
@needs("records.read")
def get_field(record_type, field_key):
    return json_response(dump_definition(load_definition(record_type, field_key)))


@blp.route(ITEM, methods=["PATCH"], endpoint="update_field", tags=TAGS)
@blp.doc(operationId="updateField", summary="Change a custom field (a type change converts stored values)",
         parameters=[DRY_RUN_PARAM], requestBody=_body_doc(DefinitionIn(partial=True)))
@blp.alt_response(200, schema={"oneOf": [FieldDefinitionSchema, ChangeImpactSchema]}, success=True,
                  description="Changed (or, with dry_run, the impact).")
@problems(400, 401, 403, 404, 415, 422)
@needs("fields.manage")
def update_field(record_type, field_key):
    definition = _live(load_definition(record_type, field_key))
    data = json_body()
    if not isinstance(data, dict):
        raise ValidationError({"_schema": [_("Send a JSON object.")]})
    drop = data.get("drop_unconvertible", False)
    if not isinstance(drop, bool):
        raise ValidationError({"drop_unconvertible": [_("Send true or false.")]})
    if _flag("dry_run"):
        p = plan(definition, data)  # validates and counts; writes nothing
        return json_response(impact(p).as_json(p.type_change))
    apply_change(g.tenant, definition, data, g.actor, drop_unconvertible=drop)
    db.session.commit()
    return json_response(dump_definition(definition))


def _live(definition: FieldDefinition) -> FieldDefinition:
    if definition.status == "deleted":
        raise ValidationError({"status": [_("A deleted field cannot change.")]})
    return definition


def _switch(record_type: str, field_key: str, status: str):
    definition = _live(load_definition(record_type, field_key))
    if definition.status != status:
        set_status(g.tenant, definition, status, g.actor)
        db.session.commit()
    return json_response(dump_definition(definition))


@blp.route(ITEM + "/archive", methods=["POST"], endpoint="archive_field", tags=TAGS)
@blp.doc(operationId="archiveField", summary="Archive a custom field (hidden; values kept)")
@blp.alt_response(200, schema=FieldDefinitionSchema, success=True)
@problems(401, 403, 404, 422)
@needs("fields.manage")
def archive_field(record_type, field_key):
    return _switch(record_type, field_key, "archived")


@blp.route(ITEM + "/restore", methods=["POST"], endpoint="restore_field", tags=TAGS)
@blp.doc(operationId="restoreField", summary="Restore an archived custom field")
@blp.alt_response(200, schema=FieldDefinitionSchema, success=True)
@problems(401, 403, 404, 422)
@needs("fields.manage")
def restore_field(record_type, field_key):
    return _switch(record_type, field_key, "active")


@blp.route(ITEM, methods=["DELETE"], endpoint="delete_field", tags=TAGS)
@blp.doc(operationId="deleteField", summary="Delete a custom field and its values (the key stays reserved)",
         parameters=[CONFIRM_PARAM])
@blp.alt_response(204, description="Deleted.", success=True)
@problems(401, 403, 404, 422)
@needs("fields.manage")
def delete_field(record_type, field_key):
    definition = _live(load_definition(record_type, field_key))
    if request.args.get("confirm") != definition.key:
        raise ValidationError({"confirm": [_("Type the field's key to confirm: deleting removes its values.")]})
    set_status(g.tenant, definition, "deleted", g.actor)
    db.session.commit()
    return "", 204
