"""Safe changes to live fields: know what a change does to stored values before making it.

A label, help text or option label change touches no data. Removing a select option, or turning on
``required``, affects records: :func:`impact` counts them (a dry run), and :func:`apply_change` then
removes the dropped option from the records that hold it. A type change is allowed only where a
conversion below is defined; its dry run lists the values that would not convert, and applying it
refuses (422) unless the caller agrees to clear them (``drop_unconvertible``).

Values are rewritten in keyset batches through the ORM, so the tenant scoping of every query holds.
Every change bumps the tenant's ``fields_version`` and is audited. Callers commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from .. import audit
from ..db import db
from ..models import FieldDefinition
from ..models.records import RECORD_MODELS
from . import field_types
from .definitions import checked_update, update_definition

BATCH = 500
SAMPLE = 20  # record ids shown with a count
LISTED = 500  # unconvertible values listed by a dry run
CONVERSION_KEYS = ("mapping", "drop_unconvertible")


class Unconvertible(Exception):
    """A stored value that the conversion cannot carry over."""


def _identity(value, _old, _new, _mapping):
    return value


def _to_text(value, _old, _new, _mapping):
    return str(value)


def _option_label(old: FieldDefinition, value) -> str:
    labels = {o["value"]: o["label"] for o in old.options or ()}
    return labels.get(value, str(value))


def _select_to_text(value, old, _new, _mapping):
    return _option_label(old, value)  # the text people saw, not the internal value


def _multi_to_text(value, old, _new, _mapping):
    return ", ".join(_option_label(old, v) for v in value)


def _text_to_select(value, _old, new, mapping):
    if value in mapping:
        return mapping[value]
    if value in {o["value"] for o in new.options or ()}:
        return value
    raise Unconvertible(value)


def _select_to_multi(value, _old, _new, _mapping):
    return [value]


def _date_to_datetime(value, _old, _new, _mapping):
    return f"{value}T00:00:00Z"


# (from type, to type) -> how one stored value converts; the new type's validator then checks it.
CONVERSIONS = {
    ("text", "select"): _text_to_select,
    ("text", "long_text"): _identity,
    ("long_text", "text"): _identity,  # only when every value fits the text limits
    ("text", "number"): _identity,  # the number validator parses numeric text
    ("number", "text"): _to_text,
    ("number", "currency"): _identity,
    ("currency", "number"): _identity,
    ("select", "multi_select"): _select_to_multi,
    ("select", "text"): _select_to_text,
    ("multi_select", "text"): _multi_to_text,
    ("email", "text"): _identity,
    ("phone", "text"): _identity,
    ("url", "text"): _identity,
    ("date", "datetime"): _date_to_datetime,
}


@dataclass
class Impact:
    """What a change does to stored values: how many records, a sample of their ids, and (for a type
    change) the values that would not convert."""

    affected: int = 0
    sample: list = field(default_factory=list)
    unconvertible: list = field(default_factory=list)
    unconvertible_count: int = 0

    def note(self, record) -> None:
        self.affected += 1
        if len(self.sample) < SAMPLE:
            self.sample.append(str(record.id))

    def refuse(self, record, value) -> None:
        self.unconvertible_count += 1
        if len(self.unconvertible) < LISTED:
            self.unconvertible.append({"id": str(record.id), "value": value})

    def as_json(self, type_change: bool = False) -> dict:
        out = {"affected": self.affected, "sample": self.sample}
        if type_change:
            out.update(unconvertible=self.unconvertible, unconvertible_count=self.unconvertible_count)
        return out


@dataclass
class Plan:
    """A checked change: the definition's new attributes and how each stored value changes."""

    definition: FieldDefinition
    data: dict
    new: FieldDefinition  # an unsaved copy with the new attributes, for the validators
    removed_options: frozenset
    newly_required: bool
    mapping: dict

    @property
    def type_change(self) -> bool:
        return self.new.type != self.definition.type

    @property
    def rewrites(self) -> bool:
        return self.type_change or bool(self.removed_options)


def _batches(record_type: str):
    """Every record of the type in this tenant, a batch at a time (keyset on id, tenant-scoped)."""
    model = RECORD_MODELS[record_type]
    last = None
    while True:
        stmt = select(model).order_by(model.id).limit(BATCH)
        if last is not None:
            stmt = stmt.where(model.id > last)
        batch = list(db.session.scalars(stmt))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def plan(definition: FieldDefinition, data: dict) -> Plan:
    """Validate a change (ValidationError names the field) without writing anything."""
    data = dict(data)
    mapping = data.pop("mapping", None) or {}
    data.pop("drop_unconvertible", None)
    new_type = data.get("type", definition.type)
    if new_type != definition.type:
        if not isinstance(new_type, str) or (definition.type, new_type) not in CONVERSIONS:
            raise ValidationError({"type": [_("%(old)s fields cannot become %(new)s fields.",
                                              old=definition.type, new=new_type)]})
        data = {**_carried(definition, new_type, data), **data}
    values = checked_update(definition, data, retype=True)
    new = FieldDefinition(**{k: values[k] for k in ("key", "type", "options", "config", "required", "label")})
    _check_mapping(mapping, new)
    if new.type in ("select", "multi_select") and definition.type == new.type:
        removed = frozenset(o["value"] for o in definition.options or ()) - {o["value"] for o in new.options}
    else:
        removed = frozenset()
    return Plan(definition, data, new, removed, bool(new.required and not definition.required), mapping)


def _carried(definition: FieldDefinition, new_type: str, data: dict) -> dict:
    """What a type change keeps unless the caller says otherwise: options only between selects, the
    settings that the new type also has, and the default when it converts."""
    kind = field_types()[new_type]
    carried = {"type": new_type}
    if "options" not in data:
        carried["options"] = list(definition.options or ()) if new_type in ("select", "multi_select") else []
    if "config" not in data:
        accepted = set(kind.config_schema().fields) if kind.config_schema else set()
        config = {k: v for k, v in (definition.config or {}).items() if k in accepted}
        if definition.type == "currency" and "decimals" in accepted:
            config.setdefault("decimals", 2)  # keep the cents a currency field had
        carried["config"] = config
    if "default" not in data:
        carried["default"] = None
    return carried


def _check_mapping(mapping, new: FieldDefinition) -> None:
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": [_("Send an object of old text and option value.")]})
    values = {o["value"] for o in new.options or ()}
    wrong = sorted(str(v) for v in mapping.values() if v not in values)
    if wrong:
        raise ValidationError({"mapping": [_("Not an option of the field: %(values)s.", values=", ".join(wrong))]})


def impact(p: Plan) -> Impact:
    """Count the records the change affects (a dry run: nothing is written)."""
    found = Impact()
    key = p.definition.key
    for batch in _batches(p.definition.record_type):
        for record in batch:
            custom = record.custom or {}
            if p.type_change:
                if key in custom:
                    found.note(record)
                    _convert_or_note(p, record, custom[key], found)
            elif p.removed_options and _holds_removed(custom.get(key), p.removed_options):
                found.note(record)
            elif p.newly_required and custom.get(key) in (None, "", []):
                found.note(record)
    return found


def _holds_removed(value, removed) -> bool:
    if isinstance(value, list):
        return any(v in removed for v in value)
    return value in removed


def _convert(p: Plan, value):
    """The stored value in the new type, or Unconvertible."""
    try:
        converted = CONVERSIONS[(p.definition.type, p.new.type)](value, p.definition, p.new, p.mapping)
        return field_types()[p.new.type].field(p.new).deserialize(converted)
    except (ValidationError, ValueError, TypeError) as exc:
        raise Unconvertible(value) from exc


def _convert_or_note(p: Plan, record, value, found: Impact) -> None:
    try:
        _convert(p, value)
    except Unconvertible:
        found.refuse(record, value)


def apply_change(tenant, definition: FieldDefinition, data: dict, actor, *, drop_unconvertible: bool = False) -> Impact:
    """Make the change: check it, rewrite the stored values, then update the definition."""
    p = plan(definition, data)
    if p.type_change and not drop_unconvertible:
        found = impact(p)
        if found.unconvertible_count:
            raise ValidationError({"type": [_(
                "%(n)d stored value(s) would not convert; see them with a dry run, or send "
                "drop_unconvertible to clear them.", n=found.unconvertible_count)]})
    done = _rewrite(p) if p.rewrites else Impact()
    update_definition(tenant, definition, p.data, actor, retype=p.type_change)
    if done.affected:
        audit.log(actor, "update", "field_definitions", definition.id,
                  {"records_rewritten": (None, done.affected), "values_cleared": (None, done.unconvertible_count)})
    return done


def _rewrite(p: Plan) -> Impact:
    done = Impact()
    key = p.definition.key
    for batch in _batches(p.definition.record_type):
        for record in batch:
            custom = record.custom or {}
            if key not in custom:
                continue
            new_value = _new_value(p, record, custom[key], done)
            if new_value != custom[key]:
                done.note(record)
                # a new dict, not an in-place change: the JSON column only sees reassignment
                record.custom = {**custom, key: new_value} if new_value not in (None, []) else \
                    {k: v for k, v in custom.items() if k != key}
        db.session.flush()
    return done


def _new_value(p: Plan, record, value, done: Impact):
    if p.type_change:
        try:
            return _convert(p, value)
        except Unconvertible:
            done.refuse(record, value)
            return None
    if isinstance(value, list):
        return [v for v in value if v not in p.removed_options]
    return None if value in p.removed_options else value


__all__ = ["CONVERSIONS", "Impact", "Plan", "plan", "impact", "apply_change"]
