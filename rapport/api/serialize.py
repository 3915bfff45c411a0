"""Fast output for records: the same JSON as the output schemas, without marshmallow's per-field cost.

Lists answer 50-200 records per request, so serialising is on the hot path. The output schemas stay
the documented contract (OpenAPI); ``tests/api/test_serialize.py`` checks that both give the same JSON.

``custom`` shows only the fields the reader may see through the API (``visible_values`` with the
audience "api" and the token's member role); with no reader in the request, it shows nothing.
"""
from __future__ import annotations

import datetime as dt

import orjson
from flask import g, has_app_context
from sqlalchemy import DateTime, Numeric, Row, Uuid

from ..fields import CUSTOM_RECORD_TYPES, compiled, role_key_of, visible_values
from ..models.records import RECORD_MODELS
from .schemas import OUTPUT_SCHEMAS


def _utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()


def _converter(column):
    if isinstance(column.type, (Uuid, Numeric)):
        return str
    if isinstance(column.type, DateTime):
        return _utc_iso
    return None


def _native_converter(column):
    """For :func:`page_json`: orjson writes UUIDs and datetimes itself (naive ones as UTC), exactly as
    :func:`_converter` would; only decimals need converting."""
    return str if isinstance(column.type, Numeric) else None


class _Plan:
    """How one record type is answered: the output keys in the schema's order, a converter for each,
    and the model attributes to select for a page of rows (the keys', then ``tenant_id``)."""

    def __init__(self, record_type: str):
        model = RECORD_MODELS[record_type]
        self.keys = tuple(OUTPUT_SCHEMAS[record_type]().fields)
        self.converters = tuple(_converter(model.__table__.c[key]) for key in self.keys)
        self.native_converters = tuple(_native_converter(model.__table__.c[key]) for key in self.keys)
        self.columns = tuple(getattr(model, key) for key in (*self.keys, "tenant_id"))
        self.has_custom = "custom" in self.keys

    def values(self, record) -> tuple:
        """A row selected with ``columns`` is already the tuple; an ORM object is read attribute by attribute."""
        return record if isinstance(record, Row) else tuple(getattr(record, key) for key in (*self.keys, "tenant_id"))

    def dump(self, values, native: bool = False) -> dict:
        converters = self.native_converters if native else self.converters
        return {
            key: convert(value) if convert is not None and value is not None else value
            for key, convert, value in zip(self.keys, converters, values)
        }


PLANS = {record_type: _Plan(record_type) for record_type in RECORD_MODELS}


def columns_for(record_type: str) -> tuple:
    """What to select for a page that :func:`dump_page` can answer without ORM objects."""
    return PLANS[record_type].columns


def dump(record, tenant=None, member=None) -> dict:
    out = PLANS[record.record_type].dump(PLANS[record.record_type].values(record))
    if "custom" in out:
        out["custom"] = _visible_custom(record, tenant, member)
    return out


def page_json(record_type: str, records, next_cursor: str | None, tenant=None, member=None) -> bytes:
    """A list answer, ``{"items": [...], "next_cursor": ...}``, encoded: the same JSON as
    :func:`dump_page` through ``json_response`` (keys sorted), with orjson writing the ids and times
    of the 50-200 records itself instead of Python converting each one first."""
    items = dump_page(record_type, records, tenant, member, native=True)
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=_PAGE_OPTIONS)


_PAGE_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC  # naive datetimes (SQLite) are UTC


def dump_page(record_type: str, records, tenant=None, member=None, native: bool = False) -> list[dict]:
    """Records of one type, as ORM objects or as rows of :func:`columns_for`. The reader's visible
    custom fields are worked out once for the page, not once a record. ``native``: ids and times are
    left as they are, for orjson (:func:`page_json`)."""
    plan = PLANS[record_type]
    if tenant is None and has_app_context():
        tenant, member = g.get("tenant"), g.get("member")
    keys = _visible_keys(record_type, tenant, member) if plan.has_custom else ()
    out = []
    for record in records:
        values = plan.values(record)
        item = plan.dump(values, native)
        if plan.has_custom:
            custom = item["custom"] or {}
            if keys is None:
                item["custom"] = dict(custom)
            elif tenant is None or tenant.id != values[-1]:  # values[-1]: the record's tenant_id
                item["custom"] = {}
            else:
                item["custom"] = {k: custom[k] for k in keys if k in custom}
        out.append(item)
    return out


def _visible_keys(record_type: str, tenant, member) -> list[str] | None:
    """The custom keys this reader may see through the API (None: every key, for a type without
    field definitions; nothing with no reader)."""
    if record_type not in CUSTOM_RECORD_TYPES:
        return None
    return compiled(tenant, record_type, "api", role_key_of(member)).keys if tenant is not None else []


def _visible_custom(record, tenant, member) -> dict:
    if record.record_type not in CUSTOM_RECORD_TYPES:
        return dict(record.custom or {})
    if tenant is None and has_app_context():
        tenant, member = g.get("tenant"), g.get("member")
    if tenant is None or tenant.id != record.tenant_id:
        return {}
    return visible_values(record.custom, tenant, record.record_type, "api", member)
