"""``/accounts``, ``/contacts``, ``/leads`` and ``/activities``: list, create, read, update, delete.

Every view follows the same order: token (blueprint), permission, the object (404), then the body
(415/400/422). Writes go through ``rapport.crm`` with the token's member, so record-level rules,
audit and plugin events are the same as in the web UI.
"""
from __future__ import annotations

import uuid

from flask import current_app, g, request, url_for

from .. import access, crm, listing, tenancy
from ..db import db
from ..models.records import RECORD_MODELS
from ..schemas import INPUT_SCHEMAS
from . import idempotency
from .auth import needs
from .blueprint import blp, json_response, problems
from .body import json_body
from .errors import not_found
from .schemas import OUTPUT_SCHEMAS, PAGE_SCHEMAS, QUERY_SCHEMAS, SINGULAR
from .serialize import columns_for, dump, page_json

ID_ARGS = {"accounts": "account_id", "contacts": "contact_id", "leads": "lead_id", "activities": "activity_id"}
IDEMPOTENCY_HEADER = {
    "in": "header", "name": idempotency.HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Retry-safe creation: a retry with the same key and body gets the first answer.",
}


def load_record(record_type: str, record_id: uuid.UUID):
    """The record in this tenant that the member may see, else 404 (never 403: no existence leak)."""
    record = db.session.get(RECORD_MODELS[record_type], (tenancy.current_tenant_id(), record_id))
    if record is None or not access.can_see(record, g.member):
        raise not_found()
    return record


def _location(record_type: str, record_id) -> str:
    return url_for(f"api.get_{SINGULAR[record_type].lower()}", **{ID_ARGS[record_type]: record_id})


def list_records(record_type: str):
    page = listing.fetch(record_type, request.args, g.member, columns=columns_for(record_type))
    return current_app.response_class(page_json(record_type, page.items, page.next_cursor), mimetype="application/json")


def create_record(record_type: str):
    data = json_body()

    def create():
        record = crm.create(record_type, data, g.actor, g.member)
        return dump(record), record.id

    return idempotency.create_once(data, create, lambda record_id: _location(record_type, record_id))


def read_record(record_type: str, record_id: uuid.UUID):
    return json_response(dump(load_record(record_type, record_id)))


def update_record(record_type: str, record_id: uuid.UUID):
    record = load_record(record_type, record_id)
    data = json_body()
    crm.update(record, data, g.actor, g.member)
    db.session.commit()
    return json_response(dump(record))


def delete_record(record_type: str, record_id: uuid.UUID):
    record = load_record(record_type, record_id)
    crm.delete(record, g.actor, g.member)
    db.session.commit()
    return "", 204


def _register(record_type: str) -> None:
    """Add the five routes of one record type, each documented with that type's schemas."""
    one = SINGULAR[record_type]
    a_one = ("an " if one[0] in "AEIOU" else "a ") + one.lower()
    id_arg = ID_ARGS[record_type]
    input_schema = INPUT_SCHEMAS[record_type]
    tags = [record_type]

    def body_doc(schema):
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    @blp.doc(operationId=f"list{record_type.title()}",
             summary=f"List {record_type}", parameters=[{"in": "query", "schema": QUERY_SCHEMAS[record_type]}])
    @blp.alt_response(200, schema=PAGE_SCHEMAS[record_type], success=True)
    @problems(401, 403, 422)
    @needs("records.read")
    def list_view():
        return list_records(record_type)

    @blp.doc(operationId=f"create{one}", summary=f"Create {a_one}", requestBody=body_doc(input_schema),
             parameters=[IDEMPOTENCY_HEADER])
    @blp.alt_response(201, schema=OUTPUT_SCHEMAS[record_type], success=True)
    @problems(400, 401, 403, 413, 415, 422)
    @needs("records.write")
    def create_view():
        return create_record(record_type)

    @blp.doc(operationId=f"get{one}", summary=f"Read {a_one}")
    @blp.alt_response(200, schema=OUTPUT_SCHEMAS[record_type], success=True)
    @problems(401, 403, 404)
    @needs("records.read")
    def read_view(**ids):
        return read_record(record_type, ids[id_arg])

    @blp.doc(operationId=f"update{one}", summary=f"Change some fields of {a_one}",
             requestBody=body_doc(input_schema(partial=True)))
    @blp.alt_response(200, schema=OUTPUT_SCHEMAS[record_type], success=True)
    @problems(400, 401, 403, 404, 413, 415, 422)
    @needs("records.write")
    def update_view(**ids):
        return update_record(record_type, ids[id_arg])

    @blp.doc(operationId=f"delete{one}", summary=f"Delete {a_one}")
    @blp.alt_response(204, description="Deleted.", success=True)
    @problems(401, 403, 404)
    @needs("records.delete")
    def delete_view(**ids):
        return delete_record(record_type, ids[id_arg])

    collection, item = f"/{record_type}", f"/{record_type}/<uuid:{id_arg}>"
    singular = one.lower()
    blp.add_url_rule(collection, f"list_{record_type}", list_view, methods=["GET"], tags=tags)
    blp.add_url_rule(collection, f"create_{singular}", create_view, methods=["POST"], tags=tags)
    blp.add_url_rule(item, f"get_{singular}", read_view, methods=["GET"], tags=tags)
    blp.add_url_rule(item, f"update_{singular}", update_view, methods=["PATCH"], tags=tags)
    blp.add_url_rule(item, f"delete_{singular}", delete_view, methods=["DELETE"], tags=tags)


for _record_type in RECORD_MODELS:
    _register(_record_type)
