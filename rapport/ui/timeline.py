"""The timeline of a record page: everything that happened to that customer, newest first.

It merges three sources, each read with one query of its newest ``LIMIT`` rows: activities linked to
the record (and, for an account or contact, to its visible contacts and leads), lead stage changes,
and audit events. Records the member cannot see add nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import and_, false, or_, select

from .. import access, crm
from ..db import db
from ..fields import CUSTOM_RECORD_TYPES
from ..fields import forms as custom_forms
from ..models import Activity, AuditEvent, Contact, Lead, LeadStageChange
from . import lookups
from .formatting import aware, when
from .record_types import KIND_LABELS, RECORD_TYPES, REFERENCE_TYPES, STAGE_LABELS, title

LIMIT = 100
MAX_VALUE_LENGTH = 300
ACTION_LABELS = {  # what happened, not when ("Created" is also a column of dates)
    "create": lazy_pgettext("audit action", "Created"),
    "update": lazy_pgettext("audit action", "Changed"),
    "delete": lazy_pgettext("audit action", "Deleted"),
}
CHANNEL_LABELS = {
    "web": _l("web"), "api": _l("API"), "cli": _l("command line"), "form": _l("public form"),
    "plugin": _l("plugin"), "import": _l("import"),
}
EXTRA_LABELS = {"done_at": _l("Done at"), "custom": _l("Custom fields"), "stage_changed_at": _l("Stage changed")}


@dataclass(frozen=True)
class About:
    """The other record an entry is about (e.g. a contact, on its account's timeline)."""

    record_type: str
    record_id: uuid.UUID
    title: str
    linkable: bool


@dataclass
class Entry:
    at: dt.datetime
    kind: str  # activity, stage or audit
    item: object  # the Activity, LeadStageChange or AuditEvent
    about: About | None = None  # set when the entry is about another record than the page's
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # audit: (label, old, new)


@dataclass
class Timeline:
    entries: list[Entry]
    truncated: bool


def related_ids(record, member) -> dict[str, object]:
    """Ids whose history belongs on this record's page, per record type: a list or a subquery."""
    kind = record.record_type
    ids = {kind: [record.id]}
    if kind == "accounts":
        ids["contacts"] = access.visible(select(Contact.id).where(Contact.account_id == record.id), Contact, member)
        ids["leads"] = access.visible(select(Lead.id).where(Lead.account_id == record.id), Lead, member)
    elif kind == "contacts":
        ids["leads"] = access.visible(select(Lead.id).where(Lead.contact_id == record.id), Lead, member)
    return ids


def _activities(ids: dict, member) -> list[Activity]:
    links = [getattr(Activity, column).in_(ids[t]) for column, t in REFERENCE_TYPES.items() if t in ids]
    if not links:
        return []
    stmt = access.visible(select(Activity).where(or_(*links)), Activity, member)
    return list(db.session.scalars(stmt.order_by(Activity.created_at.desc(), Activity.id.desc()).limit(LIMIT)))


def _stage_changes(ids: dict) -> list[LeadStageChange]:
    if "leads" not in ids:
        return []
    stmt = select(LeadStageChange).where(LeadStageChange.lead_id.in_(ids["leads"]))
    return list(db.session.scalars(stmt.order_by(LeadStageChange.changed_at.desc(), LeadStageChange.id.desc()).limit(LIMIT)))


def _audit_events(ids: dict) -> list[AuditEvent]:
    # Activities show as themselves on a customer's timeline; their audit trail is on their own page.
    wanted = [and_(AuditEvent.record_type == t, AuditEvent.record_id.in_(v)) for t, v in ids.items()]
    stmt = select(AuditEvent).where(or_(false(), *wanted))
    return list(db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(LIMIT)))


def build(record, member, people: lookups.People) -> Timeline:
    ids = related_ids(record, member)
    activities = _activities(ids, member) if record.record_type != "activities" else []
    stages = _stage_changes(ids)
    events = _audit_events(ids)
    titles = _titles_of(record, stages, events, member)
    custom = _custom_fields(events, member)
    entries = [Entry(aware(a.created_at), "activity", a) for a in activities]
    entries += [Entry(aware(s.changed_at), "stage", s, _about(record, "leads", s.lead_id, titles)) for s in stages]
    for event in events:
        # A lead's stage change has its own entry (from lead_stage_changes): not told twice.
        skip = ("stage",) if event.record_type == "leads" and event.action == "update" else ()
        changes = _changes(event, people, titles, skip, custom.get(event.record_type, {}))
        if changes or not skip:
            about = _about(record, event.record_type, event.record_id, titles)
            entries.append(Entry(aware(event.at), "audit", event, about, changes))
    entries.sort(key=lambda e: e.at, reverse=True)
    truncated = any(len(rows) >= LIMIT for rows in (activities, stages, events))
    return Timeline(entries[:LIMIT], truncated)


def _titles_of(record, stages, events, member) -> dict[str, dict[uuid.UUID, str]]:
    """Titles of the other records that entries are about or that audit values point at."""
    wanted: dict[str, set] = {t: set() for t in REFERENCE_TYPES.values()}
    wanted["leads"].update(s.lead_id for s in stages)
    for event in events:
        if event.record_type in wanted:
            wanted[event.record_type].add(event.record_id)
        for key, (old, new) in _pairs(event):
            if key in REFERENCE_TYPES:
                wanted[REFERENCE_TYPES[key]].update(lookups.as_uuid(v) for v in (old, new))
    own = wanted.get(record.record_type, set())
    own.discard(record.id)
    found = {t: lookups.titles(t, ids, member) for t, ids in wanted.items()}
    found.setdefault(record.record_type, {})[record.id] = title(record)
    return found


def _pairs(event: AuditEvent):
    for key, pair in (event.changes or {}).items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            yield key, pair


def _about(record, record_type: str, record_id: uuid.UUID, titles: dict):
    if record_type == record.record_type and record_id == record.id:
        return None
    name = titles.get(record_type, {}).get(record_id)
    return About(record_type, record_id, name or _("(deleted or not visible)"), name is not None)


def _custom_fields(events, member) -> dict[str, dict[str, custom_forms.Widget]]:
    """Per record type in ``events``: the custom fields the member may see, by ``custom.<key>``."""
    kinds = {e.record_type for e in events} & set(CUSTOM_RECORD_TYPES)
    tenant = crm.current_tenant() if kinds else None
    return {k: {w.name: w for w in custom_forms.widgets(tenant, k, member)} for k in kinds}


def _changes(event: AuditEvent, people: lookups.People, titles: dict, skip=(), custom=None) -> list[tuple[str, str, str]]:
    rtype = RECORD_TYPES.get(event.record_type)
    labels = {f.name: str(f.label) for f in rtype.fields} if rtype else {}
    rows = []
    for key, (old, new) in _pairs(event):
        if key in skip:
            continue
        if key.startswith(custom_forms.PREFIX):
            # A custom field's change shows under its label, and only to those who may see the field.
            if key in (custom or {}):
                rows.append(_custom_change(custom[key], old, new, people))
            continue
        label = labels.get(key) or str(EXTRA_LABELS.get(key, key))
        rows.append((label, _show(key, old, people, titles), _show(key, new, people, titles)))
    return rows


def _custom_change(w: custom_forms.Widget, old, new, people: lookups.People) -> tuple[str, str, str]:
    def text(value):
        shown = custom_forms.as_text(w, value, lambda v: people.name(lookups.as_uuid(v)))
        return shown if len(shown) <= MAX_VALUE_LENGTH else shown[: MAX_VALUE_LENGTH - 1] + "…"

    return w.label, text(old), text(new)


def _show(key: str, value, people: lookups.People, titles: dict) -> str:
    """A stored audit value as a person reads it (the template escapes it)."""
    if key == "owner_id":
        return people.name(lookups.as_uuid(value))
    if value is None or value == "":
        return "—"
    if key in REFERENCE_TYPES:
        return titles.get(REFERENCE_TYPES[key], {}).get(lookups.as_uuid(value), str(value))
    if key == "stage":
        return str(STAGE_LABELS.get(value, value))
    if key == "kind":
        return str(KIND_LABELS.get(value, value))
    if key.endswith("_at"):
        return when(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"
