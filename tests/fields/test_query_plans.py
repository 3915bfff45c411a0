"""How side-table filters are run at scale: a capped count decides whether a list walks its own order
and probes custom_values per record (many matches) or fetches the matches first (few). Both plans
must give the same pages; creating a record writes its side rows in one statement; on PostgreSQL the
app role runs without parallel workers (migration 0006)."""
import pytest
from marshmallow import ValidationError
from sqlalchemy import event, text

from rapport import listing
from rapport.db import db
from rapport.fields import compiled, query, validate_custom
from tests.fields.test_query import _side_rows, add, define_all, owner_of


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


@pytest.fixture(params=["walk", "matches-first"])
def plan(request, monkeypatch):
    """Force one plan: on PostgreSQL through the threshold (the real count decides), elsewhere by
    answering the count (SQLite never walks on its own, but the walking SQL must run there too)."""
    walk = request.param == "walk"
    monkeypatch.setattr(query, "WALK_FROM", 1 if walk else 10**9)
    if not _is_postgres():
        monkeypatch.setattr(query, "_many_matches", lambda _record_type, groups: [walk] * len(groups))
    return request.param


@pytest.fixture
def crowd(shop):
    define_all(shop, True)
    for i in range(12):
        add(f"n{i:02d}", tier=("retail", "tech", "food")[i % 3], tags=[("a", "b", "c_d")[i % 3]], size=i,
            born=f"2020-01-{i + 1:02d}", vip=i % 2 == 0, **({"nick": f"nick {i}"} if i % 4 else {}))
    add("nothing")
    return owner_of(shop.tenant)


def _all_pages(args, member, limit=3):
    seen, cursor = [], None
    while True:
        page = listing.fetch("contacts", {**args, "limit": str(limit), **({"cursor": cursor} if cursor else {})}, member)
        seen += [c.last_name for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.mark.parametrize("args, expected", [
    ({"custom.tier": "retail"}, ["n00", "n03", "n06", "n09"]),
    ({"custom.tier__in": "tech,food"}, ["n01", "n02", "n04", "n05", "n07", "n08", "n10", "n11"]),
    ({"custom.tags": "b"}, ["n01", "n04", "n07", "n10"]),
    ({"custom.tags__in": "a,c_d"}, ["n00", "n02", "n03", "n05", "n06", "n08", "n09", "n11"]),
    ({"custom.size__gte": "3", "custom.size__lte": "5"}, ["n03", "n04", "n05"]),
    ({"custom.born__gte": "2020-01-10"}, ["n09", "n10", "n11"]),
    ({"custom.vip": "false", "custom.tier": "tech"}, ["n01", "n07"]),
    ({"custom.size__empty": "false"}, [f"n{i:02d}" for i in range(12)]),
    ({"custom.size__empty": "true"}, ["nothing"]),
    ({"custom.tier": "retail", "q": "n0"}, ["n00", "n03", "n06", "n09"]),
    ({"custom.tier": "retail", "sort": "-custom.size"}, ["n09", "n06", "n03", "n00"]),
    ({"custom.tier": "food", "sort": "custom.nick"}, ["n11", "n02", "n05", "n08"]),  # n08 has no nick: last
])
def test_both_plans_give_the_same_pages(crowd, plan, args, expected):
    rows = _all_pages(args, crowd)
    assert rows == expected if "sort" in args else sorted(rows) == expected


def test_the_count_decides_per_test_and_caps(shop, monkeypatch):
    define_all(shop, True)
    for size in (1, 2, 3):
        add(f"s{size}", size=size, tier="retail")
    fields_ = query.reader_fields("contacts", owner_of(shop.tenant), "staff")
    groups = [
        (fields_["size"], (query.SideTest("number", "gte", (2.0,)),)),  # 2 records
        (fields_["tier"], (query.SideTest("choice", "eq", ("retail",)),)),  # 3 records
        (fields_["size"], ()),  # any value: 3 records
        (fields_["tier"], (query.SideTest("choice", "in", ("tech", "food")),)),  # none
    ]
    decided = query._many_matches("contacts", groups)
    if _is_postgres():
        assert decided == [False, False, False, False]  # WALK_FROM is far above 3
        monkeypatch.setattr(query, "WALK_FROM", 3)
        assert query._many_matches("contacts", groups) == [False, True, True, False]
    else:
        assert decided == [False] * 4  # SQLite's planner probes per record by itself


def test_the_count_is_remembered_for_a_while(shop, monkeypatch):
    if not _is_postgres():
        pytest.skip("only PostgreSQL counts")
    define_all(shop, True)
    add("a", tier="retail")
    member = owner_of(shop.tenant)
    counts = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        if "count(*)" in statement:
            counts.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            listing.fetch("contacts", {"custom.tier": "retail"}, member)
        assert len(counts) == 1
        listing.fetch("contacts", {"custom.tier": "tech"}, member)  # another filter: counted
        assert len(counts) == 2
        monkeypatch.setattr(query, "DECISION_SECONDS", -1)  # expired at once
        listing.fetch("contacts", {"custom.tier": "retail"}, member)
        assert len(counts) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_many_matches_fence_the_probe_and_few_do_not(shop, monkeypatch):
    if not _is_postgres():
        pytest.skip("the fence is a PostgreSQL planner matter")
    define_all(shop, True)
    add("a", tier="retail")
    add("b", tier="retail")
    member = owner_of(shop.tenant)
    for walk_from, fenced in ((2, True), (3, False)):
        monkeypatch.setattr(query, "WALK_FROM", walk_from)
        stmt, _sort, _limit = listing.build("contacts", {"custom.tier": "retail"}, member)
        sql = str(stmt.compile(db.session.get_bind()))
        assert ("OFFSET" in sql) is fenced, sql


def test_side_rows_of_a_new_record_go_in_one_statement(shop):
    define_all(shop, True)
    inserts = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.startswith("INSERT INTO custom_values"):
            inserts.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        add("A", tier="retail", tags=["a", "b"], size=3, born="2020-01-01", vip=True)  # number and text kinds mixed
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1
    assert _side_rows(None) == 6  # tier, two tags, size, born, vip


def test_the_compiled_validator_is_reused_and_keeps_no_state(shop):
    shop.define(key="size", type="number")
    first = compiled(shop.tenant, "contacts", "staff")
    assert compiled(shop.tenant, "contacts", "staff").loader is first.loader
    with pytest.raises(ValidationError) as bad:
        validate_custom("contacts", {"size": "many"}, shop.tenant, "staff")
    assert "custom.size" in bad.value.messages
    assert validate_custom("contacts", {"size": 4}, shop.tenant, "staff") == {"size": 4}


def test_the_app_role_runs_without_parallel_workers_or_jit(app):
    if not _is_postgres():
        pytest.skip("a PostgreSQL role setting")
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
    assert db.session.execute(text("SHOW jit")).scalar() == "off"  # migration 0013
    assert db.session.execute(text("SELECT current_user")).scalar() == "rapport_app"
