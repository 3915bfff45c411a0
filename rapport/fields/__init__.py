"""Custom fields: per tenant and record type, the definitions are the one source of truth for
validation in the staff UI, the API, CSV import, lead forms and the portal.

``custom_schema`` compiles the definitions a reader may see into a marshmallow schema, cached by the
tenant's ``fields_version`` (bumped on every definition change, so a change shows on the next request
in every worker); ``validate_custom`` validates a record's ``custom`` object with it.
"""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError
from sqlalchemy import select

from .. import tenancy
from ..db import db
from ..models import FieldDefinition, Membership
from .types import BUILTIN_TYPES, FieldType

CUSTOM_RECORD_TYPES = ("accounts", "contacts", "leads")
AUDIENCES = ("staff", "api", "forms", "portal")
CHANNEL_AUDIENCE = {"api": "api", "form": "forms", "portal": "portal"}
_CACHE_SIZE = 1024


def field_types() -> dict[str, FieldType]:
    """The registry: built-in types plus those plugins register (validated at start-up)."""
    host = current_app.extensions.get("rapport.plugins")
    extra = getattr(host, "field_types", {}) if host else {}
    return {**{t.name: t for t in BUILTIN_TYPES}, **extra}


def audience_of(actor) -> str:
    return CHANNEL_AUDIENCE.get(getattr(actor, "channel", ""), "staff")


def shown_to(definition: FieldDefinition, audience: str, role_key: str | None) -> bool:
    if definition.status != "active":
        return False
    show = definition.show_in or {}
    if audience == "portal":
        if show.get("portal", "none") == "none":
            return False
    elif not show.get(audience, audience in ("staff", "api")):
        return False
    return not definition.roles or role_key is None or role_key in definition.roles


@dataclass(frozen=True)
class FieldSpec:
    """A read-only copy of a definition, safe to keep across requests and sessions."""

    id: uuid.UUID
    record_type: str
    key: str
    label: str
    help_text: str
    type: str
    required: bool
    default: object
    position: int
    options: tuple
    config: dict
    show_in: dict
    roles: tuple
    pii: bool
    filterable: bool
    status: str

    @classmethod
    def of(cls, d: FieldDefinition) -> "FieldSpec":
        return cls(d.id, d.record_type, d.key, d.label, d.help_text or "", d.type, bool(d.required), d.default,
                   d.position, tuple(d.options or ()), dict(d.config or {}), dict(d.show_in or {}),
                   tuple(d.roles or ()), bool(d.pii), bool(d.filterable), d.status)


@dataclass(frozen=True)
class CompiledFields:
    definitions: tuple[FieldSpec, ...]
    schema: type[Schema]
    # One instance, reused: building one copies every field (a third of a create's validation time),
    # and ``load`` keeps no state on it.
    loader: Schema

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.definitions]


class _LRU:
    def __init__(self, size: int):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_compiled = _LRU(_CACHE_SIZE)


def load_definitions(record_type: str, include_inactive: bool = False) -> list[FieldDefinition]:
    stmt = select(FieldDefinition).where(FieldDefinition.record_type == record_type)
    if not include_inactive:
        stmt = stmt.where(FieldDefinition.status == "active")
    return list(db.session.scalars(stmt.order_by(FieldDefinition.position, FieldDefinition.key)))


def compiled(tenant, record_type: str, audience: str = "staff", role_key: str | None = None) -> CompiledFields:
    """The fields of ``record_type`` that ``audience`` (and ``role_key``) may see and write."""
    cache_key = (tenant.id, tenant.fields_version, record_type, audience, role_key)
    found = _compiled.get(cache_key)
    if found is None:
        types = field_types()
        shown = tuple(FieldSpec.of(d) for d in load_definitions(record_type)
                      if shown_to(d, audience, role_key) and d.type in types)
        schema = Schema.from_dict(
            {d.key: types[d.type].field(d) for d in shown}, name=f"Custom{record_type.title()}"
        )
        schema.Meta.unknown = RAISE
        found = CompiledFields(shown, schema, schema())
        _compiled.put(cache_key, found)
    return found


def role_key_of(member: Membership | None) -> str | None:
    return member.role.key if member is not None and member.role is not None else None


def validate_custom(record_type: str, raw, tenant, audience: str, member=None, current: dict | None = None) -> dict:
    """Validate ``raw`` (the request's ``custom`` object) and return the record's new ``custom`` dict.

    ``current`` is the record's stored values on update (a partial change); on create, defaults fill
    missing fields and required fields must be given. Errors are keyed ``custom.<key>``.
    """
    if record_type not in CUSTOM_RECORD_TYPES:
        if raw:
            raise ValidationError({"custom": [str(_l("This record type has no custom fields."))]})
        return current or {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"custom": [str(_l("Send an object of field keys and values."))]})
    fields_ = compiled(tenant, record_type, audience, role_key_of(member))
    errors = {}
    try:
        loaded = fields_.loader.load(raw, partial=True)
    except ValidationError as exc:
        errors = {f"custom.{k}": v for k, v in _flat(exc.messages).items()}
        loaded = {k: v for k, v in (exc.valid_data or {}).items()}
    if current is None:
        for d in fields_.definitions:
            if d.key not in loaded and d.default is not None:
                loaded[d.key] = d.default
            if d.required and loaded.get(d.key) in (None, "", []) and f"custom.{d.key}" not in errors:
                errors[f"custom.{d.key}"] = [str(_l("This field is required."))]
    _check_members(fields_, loaded, errors)
    if errors:
        raise ValidationError(errors)
    merged = dict(current or {})
    for key, value in loaded.items():
        if value is None or value == [] or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_members(fields_: CompiledFields, loaded: dict, errors: dict) -> None:
    for d in fields_.definitions:
        if d.type == "user" and loaded.get(d.key):
            member = db.session.get(Membership, (tenancy.current_tenant_id(), uuid.UUID(loaded[d.key])))
            if member is None or member.status != "active":
                errors[f"custom.{d.key}"] = [str(_l("No such member in this workspace."))]


def _flat(messages) -> dict:
    if isinstance(messages, dict):
        return {str(k): _sentences(v) for k, v in messages.items()}
    return {"_schema": messages}


def _sentences(messages) -> list[str]:
    """A field's messages as plain sentences: a list's bad items (marshmallow keys them by index)
    are named by their position, counted from 1: ``[2] Must be one of: a, b.``"""
    if isinstance(messages, dict):
        return [f"[{k + 1}] {m}" if isinstance(k, int) else f"{k}: {m}"
                for k, sub in messages.items() for m in _sentences(sub)]
    if isinstance(messages, (list, tuple)):
        return [m for item in messages for m in _sentences(item)]
    return [str(messages)]


def visible_values(custom: dict | None, tenant, record_type: str, audience: str, member=None) -> dict:
    """The stored values a reader may see (archived, deleted and hidden fields left out)."""
    if record_type not in CUSTOM_RECORD_TYPES or not custom:
        return {}
    keys = compiled(tenant, record_type, audience, role_key_of(member)).keys
    return {k: custom[k] for k in keys if k in custom}
