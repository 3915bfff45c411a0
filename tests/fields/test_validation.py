"""Every field type's validation through the record service: valid, invalid, edge and unicode values."""
import pytest
from marshmallow import ValidationError

from rapport import crm
from tests.fields.conftest import OPERATOR

CASES = [
    # type, definition extras, valid input -> stored, invalid inputs
    ("text", {"config": {"max_length": 5}}, [("王小明", "王小明"), ("abcde", "abcde")], ["abcdef", 5, "a\x00b"]),
    ("text", {"config": {"pattern": "[A-Z]{2}-\\d+"}}, [("AB-12", "AB-12")], ["ab-12", "AB-"]),
    ("long_text", {}, [("行" * 10_000, "行" * 10_000)], ["x" * 10_001, ["list"]]),
    ("number", {"config": {"min": 0, "max": 100}}, [(0, 0), (100, 100), ("42", 42)], [-1, 101, "abc", True, "NaN", 1.5]),
    ("number", {"config": {"decimals": 2}}, [(1.25, 1.25), ("3.10", 3.1), (7, 7)], [1.234, "1e400"]),
    ("currency", {"config": {"currency": "CNY"}}, [(99.99, 99.99)], [1.001, "¥5"]),
    ("date", {"config": {"min": "2000-01-01"}}, [("2026-02-28", "2026-02-28")], ["0000-00-00", "2026-02-30", "1999-12-31", "28/02/2026"]),
    ("datetime", {}, [("2026-01-31T09:30:00+08:00", "2026-01-31T01:30:00Z"), ("2026-01-31T09:30:00Z", "2026-01-31T09:30:00Z")],
     ["2026-01-31", "2026-01-31T09:30:00.5Z", "yesterday"]),
    ("boolean", {}, [(True, True), (False, False)], ["yes", 1, "true"]),
    ("select", {"options": [{"value": "retail", "label": "零售"}, {"value": "tech", "label": "Tech"}]},
     [("retail", "retail")], ["Retail", "other", ["retail"]]),
    ("multi_select", {"options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
     [(["a", "b"], ["a", "b"]), (["b"], ["b"])], [["a", "a"], ["c"], "a"]),
    ("email", {}, [("Wang@Example.COM", "Wang@example.com")], ["not-an-email", "a@"]),
    ("phone", {}, [("+86 138 0013 8000", "+8613800138000"), ("+1 (650) 253-0000", "+16502530000")],
     ["138 0013 8000", "+86 123", "phone"]),
    ("phone", {"config": {"default_region": "CN"}}, [("138 0013 8000", "+8613800138000")], ["12"]),
    ("url", {}, [("https://例子.cn/路径", "https://例子.cn/路径")], ["javascript:alert(1)", "ftp://x.test/"]),
]


@pytest.mark.parametrize("kind, extra, valid, invalid", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_type_validation(shop, kind, extra, valid, invalid):
    shop.define(key="field", type=kind, **extra)
    for given, stored in valid:
        contact = crm.create("contacts", {"last_name": "Li", "custom": {"field": given}}, OPERATOR)
        assert contact.custom == {"field": stored}
    for bad in invalid:
        with pytest.raises(ValidationError) as exc:
            crm.create("contacts", {"last_name": "Li", "custom": {"field": bad}}, OPERATOR)
        assert list(exc.value.messages) == ["custom.field"], bad
        messages = exc.value.messages["custom.field"]
        assert messages and all(isinstance(m, str) and "{" not in m for m in messages), messages


def test_a_bad_item_of_a_multi_select_is_named_by_its_position(shop):
    shop.define(key="tags", type="multi_select", options=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}])
    with pytest.raises(ValidationError) as exc:
        crm.create("contacts", {"last_name": "Li", "custom": {"tags": ["a", "c", 7]}}, OPERATOR)
    messages = exc.value.messages["custom.tags"]
    assert len(messages) == 2 and messages[0].startswith("[2] ") and messages[1].startswith("[3] "), messages
    assert not any("{" in m for m in messages)


def test_unknown_key_required_default_and_null(shop):
    shop.define(key="tier", type="select", required=True, options=[{"value": "gold", "label": "Gold"}])
    shop.define(key="score", type="number", default=10)
    with pytest.raises(ValidationError) as exc:
        crm.create("contacts", {"last_name": "Li", "custom": {"nope": 1}}, OPERATOR)
    assert set(exc.value.messages) == {"custom.nope", "custom.tier"}
    contact = crm.create("contacts", {"last_name": "Li", "custom": {"tier": "gold"}}, OPERATOR)
    assert contact.custom == {"tier": "gold", "score": 10}
    crm.update(contact, {"custom": {"score": None}}, OPERATOR)
    assert contact.custom == {"tier": "gold"}
    with pytest.raises(ValidationError):
        crm.update(contact, {"custom": {"tier": None}}, OPERATOR)
    crm.update(contact, {"last_name": "Wang"}, OPERATOR)  # untouched custom values stay
    assert contact.custom == {"tier": "gold"}


def test_custom_must_be_an_object(shop):
    for bad in (["a"], "x", 5):
        with pytest.raises(ValidationError) as exc:
            crm.create("contacts", {"last_name": "Li", "custom": bad}, OPERATOR)
        assert "custom" in exc.value.messages


def test_member_reference_must_be_a_member_of_this_tenant(shop, world):
    from sqlalchemy import select

    from rapport.db import db
    from rapport.models import Membership

    shop.define(key="advisor", type="user")
    owner = db.session.scalar(select(Membership))
    contact = crm.create("contacts", {"last_name": "Li", "custom": {"advisor": str(owner.id)}}, OPERATOR)
    assert contact.custom == {"advisor": str(owner.id)}
    with pytest.raises(ValidationError):
        crm.create("contacts", {"last_name": "Li", "custom": {"advisor": "2f1c4c1e-0000-4000-8000-000000000000"}}, OPERATOR)


def test_other_tenants_definitions_do_not_apply(shop, world):
    from flask import g

    from rapport import tenancy

    shop.define(key="industry", type="select", options=[{"value": "retail", "label": "Retail"}])
    other = world.tenant("other")
    g.tenant = other
    with tenancy.tenant_scope(other.id):
        with pytest.raises(ValidationError) as exc:
            crm.create("contacts", {"last_name": "Li", "custom": {"industry": "retail"}}, OPERATOR)
        assert "custom.industry" in exc.value.messages  # unknown here
        shop_field = crm.create("contacts", {"last_name": "Li"}, OPERATOR)
        assert shop_field.custom == {}


def test_definition_rules(shop):
    shop.define(key="industry", type="select", options=[{"value": "retail", "label": "Retail"}])
    bad = [
        {"key": "industry", "type": "text"},  # taken
        {"key": "Bad Key", "type": "text"},
        {"key": "k" * 65, "type": "text"},
        {"key": "ok", "type": "nope"},
        {"key": "ok", "type": "select"},  # no options
        {"key": "ok", "type": "select", "options": [{"value": "a", "label": "A"}, {"value": "a", "label": "B"}]},
        {"key": "ok", "type": "text", "config": {"pattern": "("}},
        {"key": "ok", "type": "currency", "config": {"currency": "XXY"}},
        {"key": "ok", "type": "number", "default": "many"},
        {"key": "email", "type": "text"},  # a built-in field
        {"key": "ok", "type": "select", "options": [{"value": str(i), "label": "x"} for i in range(201)]},
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            shop.define(label="X", **data)


def test_archived_field_is_hidden_and_its_values_kept_deleted_field_removes_values(shop):
    from rapport.fields.definitions import set_status

    definition = shop.define(key="vip", type="boolean")
    contact = crm.create("contacts", {"last_name": "Li", "custom": {"vip": True}}, OPERATOR)
    set_status(shop.tenant, definition, "archived", OPERATOR)
    with pytest.raises(ValidationError):
        crm.create("contacts", {"last_name": "Li", "custom": {"vip": True}}, OPERATOR)
    assert contact.custom == {"vip": True}
    set_status(shop.tenant, definition, "active", OPERATOR)
    set_status(shop.tenant, definition, "deleted", OPERATOR)
    assert contact.custom == {}
    with pytest.raises(ValidationError):
        shop.define(key="vip", type="boolean")  # a key is never reused
