"""Batch look-ups for pages: member names and record titles for a whole page in one query each,
so a list costs the same number of queries for 5 rows as for 200 (no N+1)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from .. import access
from ..db import db
from ..models import Membership
from .record_types import RECORD_TYPES, REFERENCE_TYPES, title

# How many records a reference select offers; more would make the form page slow at scale. The
# record pages prefill references ("add contact" on an account), which covers the rest.
CHOICES_LIMIT = 300


class People:
    """Every membership of this tenant with its user (one query), for owner names and selects."""

    def __init__(self) -> None:
        rows = db.session.scalars(select(Membership)).unique().all()
        self.by_id: dict[uuid.UUID, Membership] = {m.id: m for m in rows}
        self.names = {m.id: m.user.display_name for m in rows}
        self.names[None] = _("Unassigned")

    def name(self, member_id) -> str:
        found = self.names.get(member_id)
        return found if found is not None else _("Former member")

    def active(self) -> list[tuple[str, str]]:
        """Active members as (id, name) options, by name."""
        rows = [m for m in self.by_id.values() if m.status == "active"]
        return sorted(((str(m.id), m.user.display_name) for m in rows), key=lambda c: c[1].lower())

    def assignable(self, member) -> list[tuple[str, str]]:
        """Members ``member`` may assign records to: everyone active, or only themselves."""
        if member.can("records.edit_all"):
            return self.active()
        return [(value, label) for value, label in self.active() if value == str(member.id)]


def titles(record_type: str, ids: Iterable, member) -> dict[uuid.UUID, str]:
    """Titles of the visible records among ``ids``, in one query (invisible ones are left out)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    model = RECORD_TYPES[record_type].model
    stmt = access.visible(select(model).where(model.id.in_(ids)), model, member)
    return {r.id: title(r) for r in db.session.scalars(stmt)}


def reference_titles(records: Iterable, member) -> dict[str, dict[uuid.UUID, str]]:
    """For each reference column, the titles of what ``records`` point at: one query per column."""
    records = list(records)
    found = {}
    for column, record_type in REFERENCE_TYPES.items():
        ids = [getattr(r, column, None) for r in records]
        found[column] = titles(record_type, ids, member)
    return found


def reference_choices(column: str, member, current=None) -> tuple[list[tuple[str, str]], bool]:
    """Options for a reference select, and whether the list was cut at CHOICES_LIMIT.

    ``current`` (the value in the form) is always offered when the member can see it.
    """
    record_type = RECORD_TYPES[REFERENCE_TYPES[column]]
    model = record_type.model
    order = record_type.columns[0].sort or "created_at"
    if order == "last_name":
        ordering = (model.last_name, model.first_name, model.id)
    else:
        ordering = (getattr(model, order), model.id)
    stmt = access.visible(select(model), model, member).order_by(*ordering).limit(CHOICES_LIMIT + 1)
    rows = list(db.session.scalars(stmt))
    cut = len(rows) > CHOICES_LIMIT
    options = {str(r.id): title(r) for r in rows[:CHOICES_LIMIT]}
    current_id = as_uuid(current)
    if current_id is not None and str(current_id) not in options:
        options.update({str(k): v for k, v in titles(record_type.key, [current_id], member).items()})
    return list(options.items()), cut


def as_uuid(value):
    if isinstance(value, uuid.UUID) or value is None:
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
