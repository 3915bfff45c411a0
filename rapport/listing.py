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
from sqlalchemy import Integer, String, bindparam, func, or_, select, tuple_

from . import access
from .db import db
from .fields import _LRU
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


@dataclass(frozen=True)
class _Shape:
    """What a list's statement looks like, never a value from the request: statements are built once
    per shape (``_statement``) and run with the request's values as bound parameters."""

    record_type: str
    own_only: bool  # the member sees the records they own and unassigned ones (``member_id``)
    search: bool  # ``q``
    owner: str | None  # "id" (``owner_id``) or "none"
    created_after: bool
    created_before: bool
    exact: tuple[str, ...]  # EXACT_FILTERS given (``x_<name>``)
    custom: tuple  # custom_query.filter_plan


@dataclass
class _Request:
    shape: _Shape
    values: dict  # the bound parameters, by name
    sort: str | custom_query.CustomSort  # a column name, or a custom sort (``fetch`` pages it)
    descending: bool
    after: bool  # a built-in sort's cursor (``after_value``, ``after_id``)
    limit: int


def _parse(record_type: str, args: Mapping[str, str], member, audience: str | None) -> _Request:
    """Check every parameter (ValidationError) and split the list into its shape and its values."""
    _check_text(args)
    custom_params = {name for name in args if name.startswith(custom_query.PREFIX)}
    sort = args.get("sort") or DEFAULT_SORT[record_type]
    fields_ = (custom_query.reader_fields(record_type, member, audience)
               if custom_params or sort.lstrip("-").startswith(custom_query.PREFIX) else {})
    unknown = set(args) - allowed_params(record_type) - (custom_params if record_type in custom_query.CUSTOM_RECORD_TYPES else set())
    if unknown:
        raise ValidationError({name: ["Unknown parameter."] for name in sorted(unknown)})
    repeated = sorted(name for name in args if len(args.getlist(name)) > 1) if hasattr(args, "getlist") else ()
    if repeated:  # which of two limits or two filters was meant? Not guessed.
        raise ValidationError({name: ["Give this parameter once."] for name in repeated})
    values = {}
    own_only = not access.sees_all(member)
    if own_only:
        values["member_id"] = member.id
    q = (args.get("q") or "").strip()
    if q:
        values["q"] = custom_query.escape_like(q.lower())
    owner = args.get("owner") or None
    if owner == "me":
        owner, values["owner_id"] = "id", member.id
    elif owner and owner != "none":
        try:
            owner, values["owner_id"] = "id", uuid.UUID(owner)
        except ValueError:
            raise ValidationError({"owner": ["Use a member id, 'me' or 'none'."]}) from None
    for name in ("created_after", "created_before"):
        if args.get(name):
            values[name] = _date(name, args[name])
    exact = []
    for name, (_column, allowed) in EXACT_FILTERS[record_type].items():
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
        exact.append(name)
        values[f"x_{name}"] = value
    custom = custom_query.filter_plan(record_type, args, fields_, values)
    shape = _Shape(record_type, own_only, bool(q), owner, "created_after" in values, "created_before" in values,
                   tuple(exact), custom)

    descending = sort.startswith("-")
    sort_name = sort.lstrip("-")
    limit = _limit(args)
    if sort_name.startswith(custom_query.PREFIX) and record_type in custom_query.CUSTOM_RECORD_TYPES:
        return _Request(shape, values, custom_query.parse_sort(sort, fields_), descending, False, limit)
    if sort_name not in SORTS[record_type]:
        raise ValidationError({"sort": [f"Sort by one of: {', '.join(SORTS[record_type])} (prefix - for descending)."]})
    after = bool(args.get("cursor"))
    if after:
        values["after_value"], values["after_id"] = _decode_cursor(
            args["cursor"], getattr(RECORD_MODELS[record_type], sort_name))
    return _Request(shape, values, sort_name, descending, after, limit)


def _filtered(shape: _Shape, extra_where=()):
    """The list's rows (unordered) for ``shape``: every value a bound parameter."""
    model = RECORD_MODELS[shape.record_type]
    stmt = select(model)
    if shape.own_only:
        stmt = stmt.where(access.own_or_unassigned(model, bindparam("member_id")))
    for clause in extra_where:
        stmt = stmt.where(clause)
    if shape.search:
        needle = bindparam("q", type_=String())
        stmt = stmt.where(or_(*(func.lower(getattr(model, c)).contains(needle, escape="/")
                                for c in SEARCH[shape.record_type])))
    if shape.owner == "id":
        stmt = stmt.where(model.owner_id == bindparam("owner_id"))
    elif shape.owner == "none":
        stmt = stmt.where(model.owner_id.is_(None))
    if shape.created_after:
        stmt = stmt.where(model.created_at >= bindparam("created_after"))
    if shape.created_before:
        stmt = stmt.where(model.created_at < bindparam("created_before"))
    for name in shape.exact:
        stmt = stmt.where(getattr(model, EXACT_FILTERS[shape.record_type][name][0]) == bindparam(f"x_{name}"))
    for condition in custom_query.filter_clauses(model, shape.record_type, shape.custom):
        stmt = stmt.where(condition)
    return stmt


def _ordered(stmt, model, sort_name: str, descending: bool, after: bool):
    """Ordered by a built-in sort (and past the cursor: ``after_value``, ``after_id``)."""
    column = getattr(model, sort_name)
    if after:
        mark = tuple_(bindparam("after_value", type_=column.type), bindparam("after_id", type_=model.id.type))
        stmt = stmt.where(tuple_(column, model.id) < mark if descending else tuple_(column, model.id) > mark)
    order = (column.desc(), model.id.desc()) if descending else (column.asc(), model.id.asc())
    return stmt.order_by(*order)


def build(record_type: str, args: Mapping[str, str], member, extra_where=(), audience: str | None = None):
    """Return ``(statement, sort, limit)`` for the list, or raise ValidationError. ``sort`` is a column
    name (the statement is ordered and past the cursor), or a ``CustomSort`` (``fetch`` pages it)."""
    request = _parse(record_type, args, member, audience)
    stmt = _filtered(request.shape, extra_where)
    if not isinstance(request.sort, custom_query.CustomSort):
        stmt = _ordered(stmt, RECORD_MODELS[record_type], request.sort, request.descending, request.after)
    return stmt.params(request.values), request.sort, request.limit


def _limit(args: Mapping[str, str]) -> int:
    try:
        limit = int(args.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        raise ValidationError({"limit": ["Must be a whole number."]}) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    return limit


_statements = _LRU(1024)


def _statement(shape: _Shape, finish_key: tuple, finish, columns, extra_where=()):
    """``finish(_filtered(shape))`` with ``columns`` (or the model's objects), at most ``limit`` rows.

    Built once per shape, finish and columns, then reused: building a filtered list's statement, and
    SQLAlchemy's first look at a new one, cost a sixth of a 50-row page (a third of the time over
    hand-written SQL). Every value of the request is a bound parameter, so any tenant and any values
    share it; the tenant's criteria are added as ever at execution (``rapport.db``)."""
    def make():
        stmt = finish(_filtered(shape, extra_where))
        if columns:
            stmt = stmt.with_only_columns(*columns)
        return stmt.limit(bindparam("limit", type_=Integer()))

    if extra_where:
        return make()
    key = (shape, finish_key, id(columns))
    found = _statements.get(key)
    if found is None or found[0] is not columns:  # the same columns, not others at a reused address
        found = (columns, make())
        _statements.put(key, found)
    return found[1]


def fetch(record_type: str, args: Mapping[str, str], member, extra_where=(), audience: str | None = None,
          columns=None) -> Page:
    """One page of the list. ``audience`` (whose custom fields may be filtered) defaults to the
    request actor's channel (the API's token: ``api``; the web UI: ``staff``).

    With ``columns`` (model attributes, including ``id``, ``custom`` and every sort column), the page
    holds rows of those columns instead of ORM objects, which cost far more to build."""
    request = _parse(record_type, args, member, audience)
    model, limit = RECORD_MODELS[record_type], request.limit

    def rows_of(stmt, parameters: dict) -> list:
        if columns:
            return list(db.session.execute(stmt, parameters).all())
        return list(db.session.scalars(stmt, parameters))

    sort = request.sort
    if isinstance(sort, custom_query.CustomSort):
        def run(phase: int, after: dict, at_most: int) -> list:
            stmt = _statement(
                request.shape, ("custom", sort.spec.key, sort.kind, sort.descending, sort.side, phase, bool(after)),
                lambda s: custom_query.phase_statement(s, model, record_type, sort, phase, bool(after)),
                columns, extra_where)
            return rows_of(stmt, {**request.values, **after, "limit": at_most})

        rows, next_cursor = custom_query.fetch_sorted(run, sort, args.get("cursor"), limit)
        return Page(rows, next_cursor)
    stmt = _statement(request.shape, ("sort", sort, request.descending, request.after),
                      lambda s: _ordered(s, model, sort, request.descending, request.after), columns, extra_where)
    rows = rows_of(stmt, {**request.values, "limit": limit + 1})
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, sort), last.id)
    return Page(rows, next_cursor)
