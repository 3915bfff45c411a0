"""Schemas the API answers with, and the documentation of what it accepts.

Input is validated by the one validator, ``rapport.schemas`` (through ``rapport.crm``); list
parameters by ``rapport.listing``. The schemas here describe those rules for OpenAPI, generated from
the same tables so the two cannot drift. Output schemas are built from the models' columns: every
column but ``tenant_id``, ids as strings, decimals as strings, datetimes in ISO 8601 with an offset.
"""
from __future__ import annotations

import datetime as dt

from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema, fields, validate
from sqlalchemy import JSON, Boolean, DateTime, Integer, Numeric, Uuid

from .. import listing
from ..models.records import RECORD_MODELS

SINGULAR = {"accounts": "Account", "contacts": "Contact", "leads": "Lead", "activities": "Activity"}


class UTCDateTime(fields.DateTime):
    """ISO 8601 with an offset; SQLite returns naive datetimes, which were stored as UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class DecimalString(fields.Decimal):
    """A decimal answered as a string, so no precision is lost in a JSON float."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)


def decimal_properties(self, field, ret, **_kwargs) -> dict:
    """apispec attribute function: a decimal sent as a string is documented as one.

    apispec calls every Decimal a number (with string bounds when ``as_string``); our output is a
    string, and input accepts a string or a number.
    """
    if not isinstance(field, fields.Decimal) or not field.as_string:
        return {}
    kinds = ["string"] if isinstance(field, DecimalString) else ["string", "number"]
    ret["type"] = [*kinds, "null"] if field.allow_none else kinds
    for bound in ("minimum", "maximum"):
        if bound in ret:
            ret[bound] = float(ret[bound])
    return {"format": "decimal"}


class StrictBoolean(fields.Boolean):
    """Only JSON ``true`` or ``false`` (marshmallow's Boolean also takes "yes", 1, "on", ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _output_field(column) -> fields.Field:
    options = {"required": True, "allow_none": bool(column.nullable)}
    kind = column.type
    if isinstance(kind, Uuid):
        return fields.UUID(**options)
    if isinstance(kind, DateTime):
        return UTCDateTime(**options)
    if isinstance(kind, Integer):
        return fields.Integer(strict=True, **options)
    if isinstance(kind, Numeric):
        return DecimalString(**options)
    if isinstance(kind, JSON):
        return fields.Dict(keys=fields.String(), **options)
    if isinstance(kind, Boolean):
        return fields.Boolean(**options)
    return fields.String(**options)


def _output_schema(record_type: str) -> type[Schema]:
    columns = [c for c in RECORD_MODELS[record_type].__table__.columns if c.key != "tenant_id"]
    columns.sort(key=lambda c: c.key != "id")  # id first, then the table's order
    return Schema.from_dict({c.key: _output_field(c) for c in columns}, name=SINGULAR[record_type])


OUTPUT_SCHEMAS = {record_type: _output_schema(record_type) for record_type in RECORD_MODELS}


def _page_schema(record_type: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(OUTPUT_SCHEMAS[record_type]), required=True),
            "next_cursor": fields.String(
                required=True, allow_none=True,
                metadata={"description": "Pass as `cursor` to get the next page; null on the last page."},
            ),
        },
        name=f"{SINGULAR[record_type]}Page",
    )


PAGE_SCHEMAS = {record_type: _page_schema(record_type) for record_type in RECORD_MODELS}


def _filter_field(name: str, allowed) -> fields.Field:
    if isinstance(allowed, tuple):
        return fields.String(validate=validate.OneOf(allowed), metadata={"description": f"Only records with this {name}."})
    return fields.UUID(metadata={"description": f"Only records with this {name}."})


def _query_schema(record_type: str) -> type[Schema]:
    sorts = listing.SORTS[record_type]
    searched = ", ".join(listing.SEARCH[record_type])
    query = {
        "q": fields.String(metadata={"description": f"Case-insensitive search in {searched}."}),
        "owner": fields.String(metadata={"description": "A member id, `me` or `none` (unassigned)."}),
        "created_after": fields.String(metadata={"description": "ISO 8601 date or date-time (inclusive)."}),
        "created_before": fields.String(metadata={"description": "ISO 8601 date or date-time (exclusive)."}),
        "sort": fields.String(
            validate=validate.OneOf([*sorts, *(f"-{s}" for s in sorts)]),
            metadata={"description": f"Sort key; prefix `-` for descending. Default: `{listing.DEFAULT_SORT[record_type]}`."},
        ),
        "limit": fields.Integer(
            strict=True, load_default=listing.DEFAULT_LIMIT, validate=validate.Range(1, listing.MAX_LIMIT),
            metadata={"description": "Records per page."},
        ),
        "cursor": fields.String(metadata={"description": "`next_cursor` of the previous page."}),
    }
    for name, (_column, allowed) in listing.EXACT_FILTERS[record_type].items():
        query[name] = _filter_field(name, allowed)
    return Schema.from_dict(query, name=f"{SINGULAR[record_type]}Query")


QUERY_SCHEMAS = {record_type: _query_schema(record_type) for record_type in RECORD_MODELS}


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"description": "`about:blank`: the status code says it all."})
    title = fields.String(required=True)
    status = fields.Integer(strict=True, required=True)
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "For 422: each bad field (or parameter) with its reasons."},
    )


class PluginSchema(Schema):
    name = fields.String(required=True)
    enabled = fields.Boolean(required=True)


class PluginListSchema(Schema):
    items = fields.List(fields.Nested(PluginSchema), required=True)


class PluginSwitchSchema(Schema):
    enabled = StrictBoolean(required=True)


def schema_name(schema) -> str:
    """Component names for OpenAPI; the partial (PATCH) variant of an input schema gets its own."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


# -- the tenant's custom fields in its OpenAPI document ---------------------------------------------
CUSTOM_FILTERS_DOC = (
    "\n\nCustom fields (see `custom` in the record schema): `custom.<key>=v` (equals; a multi-select "
    "contains the option), `custom.<key>__in=a,b`, `custom.<key>__gte=v` and `__lte=v` (number, currency, "
    "date, datetime), `custom.<key>__contains=v` (text, case-insensitive), `custom.<key>__empty=true|false`; "
    "`sort=custom.<key>` or `sort=-custom.<key>` (records without a value come last). Values are written as "
    "the field stores them: numbers, `YYYY-MM-DD`, ISO 8601 date-times, option values, `true`/`false`."
)
QUERY_TYPES = {"number": {"type": "number"}, "bool": {"type": "string", "enum": ["true", "false"]}}


def _value_schema(types: dict, spec) -> dict:
    out = dict(types[spec.type].json_schema(spec))
    out["title"] = spec.label
    if spec.help_text:
        out["description"] = spec.help_text
    return out


def _custom_object(properties: dict, required: list[str] | None = None, nullable: bool = False) -> dict:
    out = {"type": ["object", "null"] if nullable else "object", "properties": properties,
           "additionalProperties": False,
           "description": "Custom fields of this workspace (only those your role may see)."}
    if required:
        out["required"] = required
    return out


def _query_parameters(types: dict, specs) -> list[dict]:
    """An equality parameter per custom field (the operators are described on the operation)."""
    params = []
    for spec in specs:
        kind = types[spec.type].kind
        schema = QUERY_TYPES.get(kind) or {"type": "string"}
        if spec.options:
            schema = {"type": "string", "enum": [o["value"] for o in spec.options]}
        params.append({"in": "query", "name": f"custom.{spec.key}", "required": False, "schema": schema,
                       "description": f"{spec.label}: equals (also `__in`, range, `__contains`, `__empty`)."})
    return params


def add_custom_fields(spec: dict, tenant, member) -> None:
    """Put the tenant's custom fields (visible to ``member`` through the API) into ``spec``."""
    from ..fields import CUSTOM_RECORD_TYPES, compiled, field_types, role_key_of

    types = field_types()
    schemas = spec.get("components", {}).get("schemas", {})
    for record_type in CUSTOM_RECORD_TYPES:
        specs = compiled(tenant, record_type, "api", role_key_of(member)).definitions
        one = SINGULAR[record_type]
        values = {d.key: _value_schema(types, d) for d in specs}
        optional = {d.key: (v if d.required else {"anyOf": [v, {"type": "null"}]}) for d, v in zip(specs, values.values())}
        if one in schemas:
            schemas[one]["properties"]["custom"] = _custom_object(values)
        if f"{one}In" in schemas:
            required = [d.key for d in specs if d.required and d.default is None]
            schemas[f"{one}In"]["properties"]["custom"] = _custom_object(optional, required, nullable=True)
        if f"{one}InPatch" in schemas:
            schemas[f"{one}InPatch"]["properties"]["custom"] = _custom_object(optional, nullable=True)
        _document_list(spec, record_type, types, specs)


def _document_list(spec: dict, record_type: str, types: dict, specs) -> None:
    operation = spec["paths"].get(f"/{record_type}", {}).get("get")
    if operation is None:
        return
    operation["description"] = operation.get("description", "") + CUSTOM_FILTERS_DOC
    params = operation.setdefault("parameters", [])
    params.extend(_query_parameters(types, specs))
    sortable = [f"custom.{d.key}" for d in specs if types[d.type].kind != "many"]
    for param in params:
        if param.get("name") == "sort" and "enum" in param.get("schema", {}):
            param["schema"]["enum"] = [*param["schema"]["enum"], *sortable, *(f"-{s}" for s in sortable)]
