"""Filtering and sorting lists by custom fields: every operator, through the JSON column and through the
typed side table (``filterable``), keyset paging with empty values last, bad filters, isolation."""
import pytest
from flask import g
from marshmallow import ValidationError
from sqlalchemy import func, select

from rapport import crm, listing, tenancy
from rapport.db import db
from rapport.fields.definitions import set_status, update_definition
from rapport.models import CustomValue, Membership
from tests.fields.conftest import OPERATOR

OPTIONS = [{"value": v, "label": v.title()} for v in ("retail", "tech", "food")]
TAGS = [{"value": v, "label": v.upper()} for v in ("a", "b", "c_d")]


def owner_of(tenant):
    with tenancy.tenant_scope(tenant.id):
        return db.session.scalar(select(Membership))


def define_all(shop, filterable: bool):
    shop.define(key="tier", type="select", options=OPTIONS, filterable=filterable)
    shop.define(key="tags", type="multi_select", options=TAGS, filterable=filterable)
    shop.define(key="size", type="number", config={"decimals": 2}, filterable=filterable)
    shop.define(key="revenue", type="currency", config={"currency": "USD"}, filterable=filterable)
    shop.define(key="born", type="date", filterable=filterable)
    shop.define(key="seen", type="datetime", filterable=filterable)
    shop.define(key="nick", type="text", filterable=filterable)
    shop.define(key="vip", type="boolean", filterable=filterable)


def add(last_name, member=None, **custom):
    record = crm.create("contacts", {"last_name": last_name, "custom": custom}, OPERATOR)
    db.session.commit()
    return record


@pytest.fixture(params=[False, True], ids=["json", "side-table"])
def people(shop, request):
    define_all(shop, request.param)
    add("A", tier="retail", tags=["a", "b"], size=10, revenue=100.5, born="2020-01-01",
        seen="2026-01-01T10:00:00Z", nick="Alpha Dog", vip=True)
    add("B", tier="tech", tags=["b"], size=20, revenue=7, born="2021-06-01", nick="beta", vip=False)
    add("C", tier="retail", tags=["c_d"], size=5, nick="GAMMA dog 100%")
    add("D")
    return owner_of(shop.tenant)


def names(args, member):
    return sorted(c.last_name for c in listing.fetch("contacts", args, member).items)


@pytest.mark.parametrize("args, expected", [
    ({"custom.tier": "retail"}, ["A", "C"]),
    ({"custom.tier__in": "retail,tech"}, ["A", "B", "C"]),
    ({"custom.tier__in": "food"}, []),
    ({"custom.tags": "b"}, ["A", "B"]),
    ({"custom.tags": "a"}, ["A"]),
    ({"custom.tags": "c_d"}, ["C"]),
    ({"custom.tags__in": "a,c_d"}, ["A", "C"]),
    ({"custom.size": "10"}, ["A"]),
    ({"custom.size__in": "5,20"}, ["B", "C"]),
    ({"custom.size__gte": "10"}, ["A", "B"]),
    ({"custom.size__lte": "10"}, ["A", "C"]),
    ({"custom.size__gte": "6", "custom.size__lte": "10.5"}, ["A"]),
    ({"custom.revenue__gte": "100.5"}, ["A"]),
    ({"custom.revenue__lte": "99"}, ["B"]),
    ({"custom.born__gte": "2021-01-01"}, ["B"]),
    ({"custom.born__lte": "2020-12-31"}, ["A"]),
    ({"custom.born": "2020-01-01"}, ["A"]),
    ({"custom.seen__gte": "2026-01-01T09:00:00Z"}, ["A"]),
    ({"custom.seen__lte": "2026-01-01T11:00:00+01:00"}, ["A"]),  # 10:00 UTC, inclusive
    ({"custom.seen__lte": "2026-01-01T09:59:59Z"}, []),
    ({"custom.nick__contains": "DOG"}, ["A", "C"]),
    ({"custom.nick__contains": "0%"}, ["C"]),  # LIKE wildcards are literal
    ({"custom.nick__contains": "_"}, []),
    ({"custom.nick": "beta"}, ["B"]),
    ({"custom.vip": "true"}, ["A"]),
    ({"custom.vip": "false"}, ["B"]),
    ({"custom.size__empty": "true"}, ["D"]),
    ({"custom.tags__empty": "false"}, ["A", "B", "C"]),
    ({"custom.born__empty": "true"}, ["C", "D"]),
    ({"custom.nick__empty": "true"}, ["D"]),
    ({"custom.tier": "retail", "custom.size__gte": "6", "q": "a"}, ["A"]),
])
def test_each_operator(people, args, expected):
    assert names(args, people) == expected


@pytest.mark.parametrize("args, param", [
    ({"custom.nope": "1"}, "custom.nope"),
    ({"custom.size": "ten"}, "custom.size"),
    ({"custom.size__gte": "nan"}, "custom.size__gte"),
    ({"custom.born__gte": "2020-13-01"}, "custom.born__gte"),
    ({"custom.born": "01/02/2020"}, "custom.born"),
    ({"custom.seen__gte": "yesterday"}, "custom.seen__gte"),
    ({"custom.tier": "unknown"}, "custom.tier"),
    ({"custom.tags__in": "a,zzz"}, "custom.tags__in"),
    ({"custom.nick__gte": "x"}, "custom.nick__gte"),
    ({"custom.tier__contains": "ret"}, "custom.tier__contains"),
    ({"custom.vip": "yes"}, "custom.vip"),
    ({"custom.size__empty": "maybe"}, "custom.size__empty"),
    ({"sort": "custom.tags"}, "sort"),
    ({"sort": "custom.nope"}, "sort"),
    ({"sort": "custom.size", "cursor": "garbage"}, "cursor"),
])
def test_bad_filters_name_the_parameter(people, args, param):
    with pytest.raises(ValidationError) as exc:
        listing.fetch("contacts", args, people)
    assert param in exc.value.messages


def test_activities_take_no_custom_parameters(people):
    with pytest.raises(ValidationError) as exc:
        listing.fetch("activities", {"custom.size": "1"}, people)
    assert "custom.size" in exc.value.messages


def _page_through(args, member, limit=4):
    seen, cursor, pages = [], None, 0
    while True:
        page = listing.fetch("contacts", {**args, "limit": str(limit), **({"cursor": cursor} if cursor else {})}, member)
        seen += page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages


@pytest.mark.parametrize("filterable", [False, True], ids=["json", "side-table"])
@pytest.mark.parametrize("key, values", [
    ("size", [3, 1, 2, 2, 2, 10, 7.5, -4, 1, 0, 100, 3, 2, 9, 8]),
    ("born", ["2020-01-0%d" % (i % 9 + 1) for i in range(15)]),
    ("nick", ["b", "a", "B", "c", "a", "zz", "é", "王", "a", "b", "x", "y", "m", "n", "o"]),
    ("tier", ["retail", "tech", "food"] * 5),
    ("vip", [True, False] * 7 + [True]),
])
def test_custom_sort_pages_without_duplicates_or_gaps_and_empty_last(shop, filterable, key, values):
    define_all(shop, filterable)
    member = owner_of(shop.tenant)
    made = [add(f"n{i}", **{key: v}) for i, v in enumerate(values)]
    made += [add(f"empty{i}") for i in range(6)]  # no value: last, whichever the direction
    for descending in (False, True):
        rows, pages = _page_through({"sort": f"{'-' if descending else ''}custom.{key}"}, member)
        assert pages >= 5
        assert len({r.id for r in rows}) == len(rows) == len(made)
        with_value = [r.custom[key] for r in rows if key in r.custom]
        assert len(with_value) == len(values)
        assert all(key not in r.custom for r in rows[len(values):])
        assert with_value == sorted(with_value, reverse=descending)


def test_custom_sort_combines_with_filters(people):
    page = listing.fetch("contacts", {"sort": "-custom.size", "custom.tier": "retail"}, people)
    assert [c.last_name for c in page.items] == ["A", "C"]


def test_side_table_follows_record_changes_and_definition_changes(shop):
    define_all(shop, True)
    member = owner_of(shop.tenant)
    record = add("A", size=10, tags=["a", "b"])
    assert _side_rows("size") == 1 and _side_rows("tags") == 2
    crm.update(record, {"custom": {"size": 30, "tags": ["c_d"]}}, OPERATOR)
    db.session.commit()
    assert names({"custom.size__gte": "20"}, member) == ["A"]
    assert names({"custom.tags": "a"}, member) == [] and names({"custom.tags": "c_d"}, member) == ["A"]
    crm.update(record, {"custom": {"size": None}}, OPERATOR)
    db.session.commit()
    assert _side_rows("size") == 0 and names({"custom.size__empty": "true"}, member) == ["A"]
    crm.delete(record, OPERATOR)
    db.session.commit()
    assert _side_rows(None) == 0


def test_flagging_a_field_filterable_later_fills_the_side_table(shop):
    shop.define(key="size", type="number")
    member = owner_of(shop.tenant)
    add("A", size=10)
    add("B", size=3)
    definition = _definition("size")
    update_definition(shop.tenant, definition, {"filterable": True}, OPERATOR)
    db.session.commit()
    assert _side_rows("size") == 2
    assert names({"custom.size__gte": "5"}, member) == ["A"]
    update_definition(shop.tenant, _definition("size"), {"filterable": False}, OPERATOR)
    db.session.commit()
    assert _side_rows("size") == 0
    assert names({"custom.size__gte": "5"}, member) == ["A"]  # the JSON column answers now


def test_deleted_field_leaves_no_side_rows_and_is_not_filterable(shop):
    shop.define(key="size", type="number", filterable=True)
    member = owner_of(shop.tenant)
    add("A", size=10)
    set_status(shop.tenant, _definition("size"), "deleted", OPERATOR)
    db.session.commit()
    assert _side_rows("size") == 0
    with pytest.raises(ValidationError) as exc:
        listing.fetch("contacts", {"custom.size": "10"}, member)
    assert "custom.size" in exc.value.messages


def test_field_hidden_from_a_role_cannot_be_filtered_or_sorted(shop, world):
    shop.define(key="secret", type="number", roles=["owner", "admin"], filterable=True)
    agent = world.member(shop.tenant, "agent@shop.test", "agent")
    g.tenant = shop.tenant
    add("A", secret=5)
    with tenancy.tenant_scope(shop.tenant.id):
        agent = db.session.get(Membership, (shop.tenant.id, agent.id))
        for args, param in (({"custom.secret": "5"}, "custom.secret"), ({"sort": "custom.secret"}, "sort")):
            with pytest.raises(ValidationError) as exc:
                listing.fetch("contacts", args, agent)
            assert param in exc.value.messages
    assert names({"custom.secret": "5"}, owner_of(shop.tenant)) == ["A"]


def test_other_tenants_definitions_never_affect_this_list(shop, world):
    shop.define(key="tier", type="select", options=OPTIONS, filterable=True)
    add("A", tier="retail")
    member = owner_of(shop.tenant)
    other = world.tenant("other")
    with tenancy.tenant_scope(other.id):
        g.tenant = other
        from rapport.fields.definitions import create_definition
        create_definition(other, "contacts", {"key": "tier", "label": "T", "type": "number", "filterable": True}, OPERATOR)
        create_definition(other, "contacts", {"key": "only_b", "label": "B", "type": "text"}, OPERATOR)
        crm.create("contacts", {"last_name": "Z", "custom": {"tier": 5, "only_b": "x"}}, OPERATOR)
        db.session.commit()
    g.tenant = shop.tenant
    assert names({"custom.tier": "retail"}, member) == ["A"]
    with pytest.raises(ValidationError) as exc:
        listing.fetch("contacts", {"custom.only_b": "x"}, member)
    assert "custom.only_b" in exc.value.messages
    with pytest.raises(ValidationError):
        listing.fetch("contacts", {"custom.tier__gte": "1"}, member)  # a select here, whatever B says
    assert [c.last_name for c in listing.fetch("contacts", {"sort": "custom.tier"}, member).items] == ["A"]


def test_a_list_statement_serves_every_value_and_tenant_of_its_shape(shop, world):
    """Statements are built once per shape (``listing._statement``), values bound at execution: other
    values, and another tenant, reuse the statement and each get their own rows."""
    shop.define(key="tier", type="select", options=OPTIONS, filterable=True)
    for name, tier in (("A", "retail"), ("B", "tech"), ("C", "retail")):
        add(name, tier=tier)
    member = owner_of(shop.tenant)
    listing._statements.data.clear()
    assert names({"custom.tier": "retail"}, member) == ["A", "C"]
    built = dict(listing._statements.data)
    assert names({"custom.tier": "tech"}, member) == ["B"]
    other = world.tenant("other")
    with tenancy.tenant_scope(other.id):
        g.tenant = other
        from rapport.fields.definitions import create_definition
        create_definition(other, "contacts", {"key": "tier", "label": "T", "type": "select", "options": OPTIONS,
                                              "filterable": True}, OPERATOR)
        crm.create("contacts", {"last_name": "Z", "custom": {"tier": "retail"}}, OPERATOR)
        db.session.commit()
        assert names({"custom.tier": "retail"}, owner_of(other)) == ["Z"]
    g.tenant = shop.tenant
    assert names({"custom.tier": "retail"}, member) == ["A", "C"]
    assert listing._statements.data == built  # one statement for all of them


def _definition(key):
    from rapport.models import FieldDefinition
    return db.session.scalar(select(FieldDefinition).where(FieldDefinition.key == key))


def _side_rows(key) -> int:
    stmt = select(func.count()).select_from(CustomValue)
    if key is not None:
        stmt = stmt.where(CustomValue.field_key == key)
    return db.session.scalar(stmt)
