"""Lists of records for the UI and the API: search, filters, sort and keyset pagination.

A cursor encodes the sort value and id of the last row shown, so page 1,000 costs the same as page 1
(an index on ``(tenant_id, <sort column>, id)`` serves each page). Filter and sort names are checked
against fixed tables here; nothing from the request is interpolated into SQL. Custom fields
(``custom.<key>...`` filters, ``sort=custom.<key>``) are checked against the reader's field
definitions by ``rapport.fields.query``.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Mapping

from marshmallow import ValidationError
from sqlalchemy import func, or_, select, tuple_

from . import access
from .db import db
from .fields import query as custom_query
from .models import STAGES
from .models.records import ACTIVITY_KINDS, RECORD_MODELS

MAX_LIMIT = 200
MAX_PARAM_LENGTH = 10_000  # a search or filter value (SQLite refuses LIKE patterns past 50,000 bytes)
DEFAULT_LIMIT = 50

SEARCH = {
    "accounts": ("name", "email", "phone", "website"),
    "contacts": ("first_name", "last_name", "email", "phone"),
    "leads": ("name", "company", "email", "phone"),
    "activities": ("subject",),
}
SORTS = {
    "accounts": ("name", "created_at", "updated_at"),
    "contacts": ("last_name", "first_name", "created_at", "updated_at"),
    "leads": ("name", "created_at", "updated_at", "stage_changed_at"),
    "activities": ("created_at", "updated_at"),
}
DEFAULT_SORT = {"accounts": "name", "contacts": "last_name", "leads": "-created_at", "activities": "-created_at"}
# Extra equality filters per record type: name -> (column, allowed values or a parser)
EXACT_FILTERS = {
    "accounts": {},
    "contacts": {"account_id": ("account_id", uuid.UUID)},
    "leads": {"stage": ("stage", STAGES), "account_id": ("account_id", uuid.UUID), "contact_id": ("contact_id", uuid.UUID)},
    "activities": {
        "kind": ("kind", ACTIVITY_KINDS),
        "account_id": ("account_id", uuid.UUID),
        "contact_id": ("contact_id", uuid.UUID),
        "lead_id": ("lead_id", uuid.UUID),
    },
}
COMMON = {"q", "owner", "created_after", "created_before", "sort", "limit", "cursor"}


@dataclass
class Page:
    items: list
    next_cursor: str | None


def allowed_params(record_type: str) -> set[str]:
    return COMMON | set(EXACT_FILTERS[record_type])


def _date(name: str, raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: ["Use an ISO 8601 date or date-time, e.g. 2026-01-31."]}) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _encode_cursor(sort_value, row_id: uuid.UUID) -> str:
    if isinstance(sort_value, dt.datetime):
        sort_value = sort_value.isoformat()
    raw = json.dumps([sort_value, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(raw: str, column) -> tuple:
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if column.type.python_type is dt.datetime:
            value = dt.datetime.fromisoformat(value)
        elif not isinstance(value, str) or "\x00" in value:
            raise TypeError
        else:
            value.encode()  # a lone surrogate (JSON allows "\ud800") raises UnicodeEncodeError, a ValueError
        return value, uuid.UUID(row_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor: use next_cursor from the previous page."]}) from None


def _check_text(args: Mapping[str, str]) -> None:
    """Refuse what no database takes: NUL (PostgreSQL), a search past SQLite's LIKE pattern limit."""
    errors = {name: ["NUL characters are not allowed."] for name, value in args.items() if "\x00" in name + value}
    errors.update({name: [f"At most {MAX_PARAM_LENGTH} characters."] for name, value in args.items()
                   if len(value) > MAX_PARAM_LENGTH and name != "cursor"})
    if errors:
        raise ValidationError(errors)


def build(record_type: str, args: Mapping[str, str], member, extra_where=(), audience: str | None = None):
    """Return ``(statement, sort, limit)`` for the list, or raise ValidationError. ``sort`` is a column
    name (the statement is ordered and past the cursor), or a ``CustomSort`` (``fetch`` pages it)."""
    model = RECORD_MODELS[record_type]
    _check_text(args)
    custom_params = {name for name in args if name.startswith(custom_query.PREFIX)}
    sort = args.get("sort") or DEFAULT_SORT[record_type]
    fields_ = (custom_query.reader_fields(record_type, member, audience)
               if custom_params or sort.lstrip("-").startswith(custom_query.PREFIX) else {})
    unknown = set(args) - allowed_params(record_type) - (custom_params if record_type in custom_query.CUSTOM_RECORD_TYPES else set())
    if unknown:
        raise ValidationError({name: ["Unknown parameter."] for name in sorted(unknown)})
    stmt = access.visible(select(model), model, member)
    for clause in extra_where:
        stmt = stmt.where(clause)
    q = (args.get("q") or "").strip()
    if q:
        needle = q.lower()
        stmt = stmt.where(
            or_(*(func.lower(getattr(model, c)).contains(needle, autoescape=True) for c in SEARCH[record_type]))
        )
    owner = args.get("owner")
    if owner:
        if owner == "me":
            stmt = stmt.where(model.owner_id == member.id)
        elif owner == "none":
            stmt = stmt.where(model.owner_id.is_(None))
        else:
            try:
                stmt = stmt.where(model.owner_id == uuid.UUID(owner))
            except ValueError:
                raise ValidationError({"owner": ["Use a member id, 'me' or 'none'."]}) from None
    if args.get("created_after"):
        stmt = stmt.where(model.created_at >= _date("created_after", args["created_after"]))
    if args.get("created_before"):
        stmt = stmt.where(model.created_at < _date("created_before", args["created_before"]))
    for name, (column, allowed) in EXACT_FILTERS[record_type].items():
        raw = args.get(name)
        if not raw:
            continue
        if isinstance(allowed, tuple):
            if raw not in allowed:
                raise ValidationError({name: [f"Must be one of: {', '.join(allowed)}."]})
            value = raw
        else:
            try:
                value = allowed(raw)
            except ValueError:
                raise ValidationError({name: ["Not a valid id."]}) from None
        stmt = stmt.where(getattr(model, column) == value)
    for condition in custom_query.filter_conditions(model, record_type, args, fields_):
        stmt = stmt.where(condition)

    descending = sort.startswith("-")
    sort_name = sort.lstrip("-")
    limit = _limit(args)
    if sort_name.startswith(custom_query.PREFIX) and record_type in custom_query.CUSTOM_RECORD_TYPES:
        return stmt, custom_query.parse_sort(sort, fields_), limit
    if sort_name not in SORTS[record_type]:
        raise ValidationError({"sort": [f"Sort by one of: {', '.join(SORTS[record_type])} (prefix - for descending)."]})
    column = getattr(model, sort_name)
    if args.get("cursor"):
        value, row_id = _decode_cursor(args["cursor"], column)
        after = tuple_(column, model.id) < (value, row_id) if descending else tuple_(column, model.id) > (value, row_id)
        stmt = stmt.where(after)
    order = (column.desc(), model.id.desc()) if descending else (column.asc(), model.id.asc())
    return stmt.order_by(*order), sort_name, limit


def _limit(args: Mapping[str, str]) -> int:
    try:
        limit = int(args.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        raise ValidationError({"limit": ["Must be a whole number."]}) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    return limit


def fetch(record_type: str, args: Mapping[str, str], member, extra_where=(), audience: str | None = None,
          columns=None) -> Page:
    """One page of the list. ``audience`` (whose custom fields may be filtered) defaults to the
    request actor's channel (the API's token: ``api``; the web UI: ``staff``).

    With ``columns`` (model attributes, including ``id``, ``custom`` and every sort column), the page
    holds rows of those columns instead of ORM objects, which cost far more to build."""
    stmt, sort_name, limit = build(record_type, args, member, extra_where, audience)
    if isinstance(sort_name, custom_query.CustomSort):
        rows, next_cursor = custom_query.fetch_sorted(
            stmt, RECORD_MODELS[record_type], record_type, sort_name, args.get("cursor"), limit, columns)
        return Page(rows, next_cursor)
    if columns:
        rows = db.session.execute(stmt.with_only_columns(*columns).limit(limit + 1)).all()
    else:
        rows = list(db.session.scalars(stmt.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, sort_name), last.id)
    return Page(rows, next_cursor)

