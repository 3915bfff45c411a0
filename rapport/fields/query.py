"""Filtering and sorting lists by custom fields, and the typed side table that makes it fast.

Parameters: ``custom.<key>=v`` (equals; a multi-select contains the option), ``custom.<key>__in=a,b``,
``__gte`` / ``__lte`` (number, currency, date, datetime), ``__contains`` (text kinds, case-insensitive),
``__empty=true|false``; ``sort=custom.<key>`` or ``-custom.<key>``. Keys are looked up in the fields the
reader may see (``compiled`` for the audience and role) and values parsed by the field's type; neither
is ever interpolated into SQL.

Fields flagged ``filterable`` are served by ``custom_values`` (one typed row per record, field and
value, B-tree indexes led by ``tenant_id``), kept in step on every flush that changes a record's
``custom`` or a definition. Other fields are read from the JSON column (a scan of the tenant's rows).

A side-table filter is an EXISTS on custom_values. Which plan serves it depends on how many records
match, which PostgreSQL misjudges under row-level security, so on PostgreSQL a capped count decides
(``WALK_FROM``, remembered a minute per process): many matches -> the list walks its own order index
and probes each record's rows (``ix_custom_values_record``) until the page is full; few -> the
matches are fetched first and sorted. Both give the same rows.

A custom sort pages in two phases, so that records lacking a value come last in both directions:
first the records with a value, in ``(value, id)`` order, then the others in ``id`` order; the cursor
carries the phase.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import math
import time
import uuid
from dataclasses import dataclass

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import and_, bindparam, delete, event, func, inspect, not_, or_, select, tuple_
from sqlalchemy.orm import aliased

from .. import tenancy
from ..db import TenantSession, db, new_id
from ..models import FieldDefinition, Tenant
from ..models.custom_values import TEXT_INDEXED, CustomValue
from ..models.records import OwnedRecord
from . import _LRU, CUSTOM_RECORD_TYPES, FieldSpec, audience_of, compiled, field_types, role_key_of
from .types import DateTimeField

PREFIX = "custom."
OPERATORS = ("in", "gte", "lte", "contains", "empty")
KIND_OPERATORS = {
    "text": {"eq", "in", "contains", "empty"},
    "number": {"eq", "in", "gte", "lte", "empty"},
    "date": {"eq", "in", "gte", "lte", "empty"},
    "bool": {"eq", "empty"},
    "choice": {"eq", "in", "empty"},
    "many": {"eq", "in", "empty"},
}
INDEXED_KINDS = {"number", "date", "bool", "choice", "many"}  # text is indexed for sorting only
MAX_IN = 100
# From this many matching records on, a side-table filter is probed record by record while the list
# walks its own order index (about 51/share records for a page), instead of fetching and sorting every
# match. PostgreSQL cannot choose this itself: row-level security and the tenant share make it
# underestimate such matches by 10-1000x, so it always sorts them all (95-370 ms for 20,000 matches).
# Both cost about the same per record, so the break-even is near sqrt(51 x records in the tenant):
# 3,200 at 200,000 records.
WALK_FROM = 3000
DECISION_SECONDS = 60


@dataclass(frozen=True)
class CustomSort:
    spec: FieldSpec
    kind: str
    descending: bool
    side: bool  # served by custom_values


# -- the reader's fields ---------------------------------------------------------------------------
def _tenant():
    tenant = g.get("tenant") if has_app_context() else None
    if tenant is None or tenant.id != tenancy.current_tenant_id():
        tenant = db.session.get(Tenant, tenancy.current_tenant_id())
    return tenant


def reader_fields(record_type: str, member, audience: str | None = None) -> dict[str, FieldSpec]:
    """The custom fields of ``record_type`` this reader may see (and so filter and sort by)."""
    if record_type not in CUSTOM_RECORD_TYPES:
        return {}
    if audience is None:
        audience = audience_of(g.get("actor")) if has_app_context() else "staff"
    specs = compiled(_tenant(), record_type, audience, role_key_of(member)).definitions
    return {d.key: d for d in specs}


def _kind(spec: FieldSpec) -> str:
    return field_types()[spec.type].kind


def split_param(name: str) -> tuple[str, str]:
    """``custom.size__gte`` -> ``("size", "gte")``; ``custom.size`` -> ``("size", "eq")``."""
    rest = name[len(PREFIX):]
    key, sep, op = rest.rpartition("__")
    if sep and op in OPERATORS:
        return key, op
    return rest, "eq"


# -- parsing values by type ------------------------------------------------------------------------
def _bad(param: str, message) -> ValidationError:
    return ValidationError({param: [str(message)]})


def parse_value(param: str, spec: FieldSpec, kind: str, raw: str):
    """One filter value, parsed as the field stores it."""
    raw = raw.strip()
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise _bad(param, _l("Enter a number.")) from None
        if not math.isfinite(value):
            raise _bad(param, _l("Enter a number."))
        return value
    if kind == "date":
        if spec.type == "datetime":
            try:
                return DateTimeField().deserialize(raw)
            except ValidationError:
                raise _bad(param, _l("Enter a date and time in ISO 8601, e.g. 2026-01-31T09:30:00Z.")) from None
        try:
            return dt.date.fromisoformat(raw).isoformat() if len(raw) == 10 else _date_error(param)
        except ValueError:
            _date_error(param)
    if kind == "bool":
        if raw not in ("true", "false"):
            raise _bad(param, _l("Use true or false."))
        return raw == "true"
    if kind in ("choice", "many"):
        if spec.options:
            if raw not in {o["value"] for o in spec.options}:
                raise _bad(param, _l("Choose one of the options."))
            return raw
        try:
            return str(uuid.UUID(raw))  # a member reference
        except ValueError:
            raise _bad(param, _l("Not a valid id.")) from None
    return raw


def _date_error(param: str):
    raise _bad(param, _l("Enter a date as YYYY-MM-DD."))


# -- SQL for one field -----------------------------------------------------------------------------
def _json_value(model, key: str, kind: str):
    element = model.custom[key]
    if kind == "number":
        return element.as_float()
    if kind == "bool":
        return element.as_boolean()
    return element.as_string()


def _side_column(kind: str, table=CustomValue):
    return table.value_num if kind == "number" else table.value_text


def _side_value(kind: str, value):
    """How a stored value is written to (and compared in) custom_values."""
    if kind == "number":
        return float(value)
    if kind == "bool":
        return "true" if value else "false"
    return str(value)[:TEXT_INDEXED]


@functools.cache
def _side_alias():
    """One alias of custom_values for every subquery (each is its own scope): a new ``aliased()`` per
    query makes SQLAlchemy adapt every column again, a third of a filtered list's build time."""
    return aliased(CustomValue, name="side")


@dataclass(frozen=True)
class SideTest:
    """One test on a custom_values row: ``op`` (eq, in, gte, lte) on the column of the field's kind."""

    kind: str
    op: str
    values: tuple

    def clause(self, table):
        column = _side_column(self.kind, table)
        if self.op == "in":
            return column.in_(self.values)
        return {"eq": column.__eq__, "gte": column.__ge__, "lte": column.__le__}[self.op](self.values[0])


def _side_exists(model, record_type: str, key: str, tests: tuple[SideTest, ...] = (), probe: bool = False):
    """EXISTS a custom_values row of the field ``key`` for the record that passes every test (an
    alias: a sort may join the table too).

    ``probe``: keep the test a per-record index probe (``OFFSET 0`` stops PostgreSQL from turning it
    into a join), so that the list walks its own order and stops at the page's last row."""
    side = _side_alias()
    stmt = select(side.record_id).where(side.tenant_id == model.tenant_id, side.record_type == record_type,
                                        side.field_key == key, side.record_id == model.id,
                                        *(test.clause(side) for test in tests))
    if probe:
        stmt = stmt.offset(0)
    return stmt.exists()


def _many_matches(record_type: str, groups: list[tuple[FieldSpec, tuple[SideTest, ...]]]) -> list[bool]:
    """Which EXISTS tests match at least ``WALK_FROM`` records: capped, index-only counts, all in one
    round trip. Only PostgreSQL needs this (see ``WALK_FROM``); elsewhere: none.

    The answer is kept for ``DECISION_SECONDS`` in this process, so the next pages of a list (and
    reloads) skip the count: it only picks a plan, so an answer a minute old costs at worst speed."""
    if not groups or db.session.get_bind().dialect.name != "postgresql":
        return [False] * len(groups)
    shape = tuple(tuple(("number" if t.kind == "number" else "text", t.op, len(t.values)) for t in tests)
                  for _spec, tests in groups)
    params = {"record_type": record_type, "cap": WALK_FROM}
    for i, (spec, tests) in enumerate(groups):
        params[f"k{i}"] = spec.key
        params.update({f"v{i}_{j}_{n}": v for j, t in enumerate(tests) for n, v in enumerate(t.values)})
    key = (tenancy.current_tenant_id(), shape, tuple(sorted(params.items())))
    now = time.monotonic()
    found = _decisions.get(key)
    if found is None or now - found[0] > DECISION_SECONDS:
        counts = db.session.execute(_count_statement(shape), params).one()
        found = (now, [count >= WALK_FROM for count in counts])
        _decisions.put(key, found)
    return found[1]


_decisions = _LRU(4096)


@functools.lru_cache(maxsize=256)
def _count_statement(shape: tuple):
    """The probe of ``_many_matches`` for one shape of tests, values as bound parameters: built and
    cache-keyed once, it costs half as much to run as a statement built for each request."""
    counts = []
    for i, tests in enumerate(shape):
        side = _side_alias()
        rows = select(side.record_id).where(side.record_type == bindparam("record_type"),
                                            side.field_key == bindparam(f"k{i}"))
        for j, (kind, op, size) in enumerate(tests):
            rows = rows.where(SideTest(kind, op, tuple(bindparam(f"v{i}_{j}_{n}") for n in range(size))).clause(side))
        counts.append(select(func.count()).select_from(rows.limit(bindparam("cap")).subquery()).scalar_subquery())
    return select(*counts)


def _uses_side(spec: FieldSpec, kind: str) -> bool:
    return spec.filterable and kind in INDEXED_KINDS


def escape_like(text: str) -> str:
    """``text`` for ``LIKE ... ESCAPE '/'`` as a bound parameter: what ``contains(text, autoescape=True)``
    does to a literal (a bound parameter keeps one statement for every value)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _condition(spec: FieldSpec, kind: str, op: str, param: str, raw: str, bind) -> tuple:
    """One parameter's condition, as a recipe: ``("json", key, kind, op, names)`` (a test on the JSON
    column, its values bound under ``names`` by ``bind``), ``("missing", key)`` (no custom_values row),
    or ``("side", SideTest | None)`` for a test on the field's custom_values row (``filter_plan`` puts a
    field's tests in one EXISTS, so a range is one index range; None: the row exists)."""
    if op not in KIND_OPERATORS[kind]:
        raise _bad(param, _l("This operator does not apply to a %(type)s field.", type=spec.type))
    if op == "empty":
        if raw not in ("true", "false"):
            raise _bad(param, _l("Use true or false."))
        if _uses_side(spec, kind):
            return ("missing", spec.key) if raw == "true" else ("side", None)
        return ("json", spec.key, kind, "empty" if raw == "true" else "present", ())
    if op == "in":
        values = [parse_value(param, spec, kind, part) for part in raw.split(",") if part.strip()]
        if not values or len(values) > MAX_IN:
            raise _bad(param, _l("Give between 1 and %(n)s values separated by commas.", n=MAX_IN))
    else:
        values = [parse_value(param, spec, kind, raw)]
    if op == "contains":
        return ("json", spec.key, kind, "contains", (bind(escape_like(values[0].lower())),))
    if _uses_side(spec, kind):
        return ("side", SideTest(kind, op, tuple(_side_value(kind, v) for v in values)))
    if kind == "many":
        # Option values are [a-z0-9_-]: the quoted value appears in the stored JSON array exactly when chosen.
        return ("json", spec.key, kind, "many", tuple(bind(escape_like(json.dumps(v))) for v in values))
    return ("json", spec.key, kind, op, tuple(bind(v) for v in values))


def filter_plan(record_type: str, args, fields: dict[str, FieldSpec], values: dict) -> tuple:
    """The ``custom.*`` parameters in ``args`` as a recipe for ``filter_clauses``: a hashable tuple that
    names their values' bound parameters (added to ``values``), so that one statement, built once,
    serves every value; ValidationError naming the parameter. On PostgreSQL a side-table test's plan
    (walk or matches first, ``_many_matches``) is part of the recipe."""
    def bind(value) -> str:
        name = f"cf_{len(values)}"
        values[name] = value
        return name

    recipe, side_tests, exists = [], {}, []
    for param in sorted(name for name in args if name.startswith(PREFIX)):
        raw = args[param]
        if raw is None or raw == "":
            continue
        key, op = split_param(param)
        spec = fields.get(key)
        if spec is None:
            raise _bad(param, _l("No such custom field."))
        kind = _kind(spec)
        condition = _condition(spec, kind, op, param, raw, bind)
        if condition[0] != "side":
            recipe.append(condition)
        elif kind != "many":
            side_tests.setdefault(key, (spec, []))[1].append(condition[1])  # one row must pass them all
        else:
            exists.append((spec, (condition[1],) if condition[1] else ()))  # each option: its own row
    for spec, tests in side_tests.values():
        exists.append((spec, tuple(t for t in tests if t is not None)))
    for (spec, tests), many in zip(exists, _many_matches(record_type, exists)):
        named = tuple((t.kind, t.op, tuple(bind(v) for v in t.values)) for t in tests)
        recipe.append(("side", spec.key, named, many))
    return tuple(recipe)


def filter_clauses(model, record_type: str, recipe: tuple) -> list:
    """The SQL conditions of a ``filter_plan`` recipe, every value a bound parameter."""
    out = []
    for entry in recipe:
        if entry[0] == "side":
            _tag, key, named, probe = entry
            tests = tuple(SideTest(kind, op, tuple(bindparam(n, type_=_side_column(kind).type) for n in names))
                          for kind, op, names in named)
            out.append(_side_exists(model, record_type, key, tests, probe))
        elif entry[0] == "missing":
            out.append(not_(_side_exists(model, record_type, entry[1])))
        else:
            out.append(_json_clause(model, *entry[1:]))
    return out


def _json_clause(model, key: str, kind: str, op: str, names: tuple):
    if op in ("empty", "present"):
        has = _json_value(model, key, kind).is_not(None)
        return not_(has) if op == "empty" else has
    if op == "contains":
        return func.lower(_json_value(model, key, kind)).contains(bindparam(names[0]), escape="/")
    if op == "many":
        text = _json_value(model, key, "text")
        return or_(*(text.contains(bindparam(n, type_=text.type), escape="/") for n in names))
    column = _json_value(model, key, kind)
    binds = [bindparam(n, type_=column.type) for n in names]
    return column.in_(binds) if op == "in" else {"eq": column.__eq__, "gte": column.__ge__, "lte": column.__le__}[op](binds[0])


# -- sorting ---------------------------------------------------------------------------------------
def parse_sort(sort: str, fields: dict[str, FieldSpec]) -> CustomSort:
    descending = sort.startswith("-")
    key = sort.lstrip("-")[len(PREFIX):]
    spec = fields.get(key)
    if spec is None:
        raise _bad("sort", _l("No such custom field."))
    kind = _kind(spec)
    if kind == "many":
        raise _bad("sort", _l("A multi-select field cannot be sorted by."))
    return CustomSort(spec, kind, descending, spec.filterable)


def _sort_value(sort: CustomSort, record):
    value = (record.custom or {}).get(sort.spec.key)
    if value is None:
        return None
    if sort.side:
        return _side_value(sort.kind, value)
    return float(value) if sort.kind == "number" else value


def encode_cursor(phase: int, value, row_id) -> str:
    raw = json.dumps(["c", phase, value, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str, sort: CustomSort) -> tuple[int, object, uuid.UUID]:
    try:
        tag, phase, value, row_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        expected = (int, float) if sort.kind == "number" else (bool if sort.kind == "bool" and not sort.side else str)
        if tag != "c" or phase not in (1, 2) or (phase == 1 and (isinstance(value, bool) != (expected is bool)
                                                                  or not isinstance(value, expected))):
            raise TypeError
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL refuses NUL
            raise TypeError
        if isinstance(value, str):
            value.encode()  # a lone surrogate (JSON allows "\ud800") raises UnicodeEncodeError, a ValueError
        return phase, value, uuid.UUID(row_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise _bad("cursor", _l("Invalid cursor: use next_cursor from the previous page.")) from None


AFTER = ("after_value", "after_id")  # the bound parameters of a cursor's position


def phase_statement(stmt, model, record_type: str, sort: CustomSort, phase: int, after: bool):
    """Phase 1: records with a value in (value, id) order; phase 2: the others in id order. ``after``:
    past the cursor's position, bound as ``after_value`` (phase 1) and ``after_id``."""
    if phase == 1:
        if sort.side:
            value = _side_column(sort.kind)
            stmt = stmt.join(CustomValue, _sort_join(model, record_type, sort.spec.key))
            row_id = CustomValue.record_id
        else:
            value = _json_value(model, sort.spec.key, sort.kind)
            stmt = stmt.where(value.is_not(None))
            row_id = model.id
        keys = (value, row_id)
    else:
        has = (_side_exists(model, record_type, sort.spec.key) if sort.side
               else _json_value(model, sort.spec.key, sort.kind).is_not(None))
        stmt = stmt.where(not_(has))
        keys = (model.id,)
    if after:
        marks = [bindparam(name, type_=key.type) for name, key in zip(AFTER[-len(keys):], keys)]
        mark, bound = (tuple_(*keys), tuple_(*marks)) if len(keys) > 1 else (keys[0], marks[0])
        stmt = stmt.where(mark < bound if sort.descending else mark > bound)
    order = [k.desc() if sort.descending else k.asc() for k in keys]
    return stmt.order_by(*order)


@functools.lru_cache(maxsize=1024)
def _sort_join(model, record_type: str, key: str):
    """The join to the sort field's rows (an expression built once per field, not per request)."""
    return and_(CustomValue.tenant_id == model.tenant_id, CustomValue.record_id == model.id,
                CustomValue.record_type == record_type, CustomValue.field_key == key)


def fetch_sorted(run, sort: CustomSort, cursor: str | None, limit: int):
    """Rows of one page and the next cursor (or None). ``run(phase, after, parameters, limit)`` gives
    the rows of ``phase_statement(..., phase, after)`` with those parameters (``AFTER``), at most ``limit``."""
    phase, after = 1, {}
    if cursor:
        phase, value, row_id = decode_cursor(cursor, sort)
        after = dict(zip(AFTER, (value, row_id))) if phase == 1 else {"after_id": row_id}
    rows = []
    if phase == 1:
        rows = run(1, after, limit + 1)
        after = {}
    if len(rows) <= limit:
        rows += run(2, after, limit + 1 - len(rows))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    value = _sort_value(sort, last)
    return rows, encode_cursor(1 if value is not None else 2, value, last.id)


# -- the side table, kept in step ------------------------------------------------------------------
def side_rows(tenant_id, record_type: str, record_id, custom: dict | None, indexed: dict[str, str]) -> list[dict]:
    """custom_values rows of one record; ``indexed`` maps each filterable key to its kind."""
    rows = []
    for key, kind in indexed.items():
        value = (custom or {}).get(key)
        if value is None or value == "" or value == []:
            continue
        for one in (value if kind == "many" and isinstance(value, list) else [value]):
            num = _side_value(kind, one) if kind == "number" else None
            text = None if kind == "number" else _side_value(kind, one)
            rows.append({"tenant_id": tenant_id, "id": new_id(), "record_type": record_type, "field_key": key,
                         "record_id": record_id, "value_num": num, "value_text": text})
    return rows


def indexed_fields(session, record_type: str) -> dict[str, str]:
    """Filterable fields (any status but deleted) of ``record_type`` in the current tenant -> kind."""
    types = field_types()
    with session.no_autoflush:
        definitions = session.scalars(select(FieldDefinition).where(FieldDefinition.record_type == record_type))
        return {d.key: types[d.type].kind for d in definitions
                if d.filterable and d.status != "deleted" and d.type in types}


_indexed_cache = _LRU(1024)


def _indexed_cached(session, tid, record_type: str, cacheable: bool) -> dict[str, str]:
    """``indexed_fields`` cached by the tenant's fields_version (not while definitions change)."""
    with session.no_autoflush:
        tenant = session.get(Tenant, tid)
    key = (tid, tenant.fields_version if tenant is not None else None, record_type)
    found = _indexed_cache.get(key) if cacheable else None
    if found is None:
        found = indexed_fields(session, record_type)
        if cacheable:
            _indexed_cache.put(key, found)
    return found


def _custom_changed(obj) -> bool:
    return inspect(obj).attrs.custom.history.has_changes()


@event.listens_for(TenantSession, "before_flush")
def _keep_in_step(session, _context, _instances) -> None:
    records = [o for o in session.new if isinstance(o, OwnedRecord) and o.record_type in CUSTOM_RECORD_TYPES]
    records += [o for o in session.dirty if isinstance(o, OwnedRecord) and o.record_type in CUSTOM_RECORD_TYPES
                and _custom_changed(o)]
    gone = [o for o in session.deleted if isinstance(o, OwnedRecord) and o.record_type in CUSTOM_RECORD_TYPES]
    changed = [d for d in session.dirty if isinstance(d, FieldDefinition) and _definition_changed(d)]
    if not (records or gone or changed):
        return
    tid = tenancy.current_tenant_id()
    if tid is None:
        return  # the flush guard refuses tenant rows without a tenant
    # Definitions first: a rebuild reads stored values, and records changed in this same flush (a
    # conversion, a deleted field's values) are then rewritten from memory below.
    for definition in changed:
        rebuild_field(session, definition)
    cacheable = not any(isinstance(o, FieldDefinition) for o in (*session.new, *session.dirty))
    indexed = {}
    for record in records:
        if record.record_type not in indexed:
            indexed[record.record_type] = _indexed_cached(session, tid, record.record_type, cacheable)
        if record.id is None:
            record.id = new_id()
    for record in records + gone:
        if inspect(record).has_identity and indexed.get(record.record_type, True):
            _delete_rows(session, CustomValue.record_id == record.id)
    rows = [row for r in records
            for row in side_rows(tid, r.record_type, r.id, r.custom, indexed[r.record_type])]
    if rows:
        _insert_rows(session, rows)


def _insert_rows(session, rows: list[dict]) -> None:
    # One Core executemany on the session's connection (sent as one multi-row INSERT, rapport.db): every row has the same
    # keys and the current tenant's id, stamped by side_rows, so the ORM's bulk path (which also sent
    # one statement per run of same-typed fields) only added half of a create's custom-field cost.
    session.connection().execute(CustomValue.__table__.insert(), rows)


def _delete_rows(session, *conditions) -> None:
    session.execute(delete(CustomValue).where(*conditions).execution_options(synchronize_session=False))


def _definition_changed(d: FieldDefinition) -> bool:
    state = inspect(d)
    return any(state.attrs[name].history.has_changes() for name in ("filterable", "status", "type", "options"))


def rebuild_field(session, definition: FieldDefinition) -> None:
    """Rewrite one field's rows after its definition changed (filterable, type, status or options)."""
    from ..models.records import RECORD_MODELS

    _delete_rows(session, CustomValue.record_type == definition.record_type, CustomValue.field_key == definition.key)
    kind = field_types().get(definition.type)
    if not definition.filterable or definition.status == "deleted" or kind is None:
        return
    model = RECORD_MODELS[definition.record_type]
    indexed = {definition.key: kind.kind}
    tid = tenancy.current_tenant_id()
    with session.no_autoflush:
        found = session.execute(select(model.id, model.custom))
        rows = [row for rid, custom in found for row in side_rows(tid, definition.record_type, rid, custom, indexed)]
    if rows:
        _insert_rows(session, rows)
