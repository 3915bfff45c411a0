"""Property-based: whatever the field schema accepts, the database stores and returns unchanged, and
feeding the stored value back in is accepted as the same value (normalisation is idempotent)."""
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from rapport import crm
from rapport.db import db
from rapport.models import Contact
from tests.fields.conftest import OPERATOR

OPTIONS = [{"value": v, "label": label} for v, label in (("retail", "零售"), ("tech", "Tech"), ("gov-1", "Gov"))]
FIELDS = {
    "t": {"type": "text"},
    "lt": {"type": "long_text"},
    "n": {"type": "number", "config": {"decimals": 3, "min": -1e9, "max": 1e9}},
    "c": {"type": "currency", "config": {"currency": "EUR"}},
    "d": {"type": "date"},
    "dt": {"type": "datetime"},
    "b": {"type": "boolean"},
    "s": {"type": "select", "options": OPTIONS},
    "m": {"type": "multi_select", "options": OPTIONS},
    "e": {"type": "email"},
    "p": {"type": "phone"},
    "u": {"type": "url"},
}

text = st.text(max_size=300)
values = {
    "t": text, "lt": text,
    "n": st.one_of(st.integers(-10**10, 10**10), st.floats(allow_nan=True, allow_infinity=True), st.decimals(places=3).map(str)),
    "c": st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6)),
    "d": st.one_of(st.dates().map(dt.date.isoformat), text),
    "dt": st.one_of(st.datetimes(timezones=st.timezones()).map(lambda d: d.replace(microsecond=0).isoformat()), text),
    "b": st.one_of(st.booleans(), st.integers(0, 1), text),
    "s": st.one_of(st.sampled_from([o["value"] for o in OPTIONS]), text),
    "m": st.lists(st.sampled_from([o["value"] for o in OPTIONS] + ["zzz"]), max_size=4),
    "e": st.one_of(st.emails().map(str), text),
    "p": st.one_of(st.sampled_from(["+86 138 0013 8000", "+1 650 253 0000", "+44 20 7946 0958", "+81 3-1234-5678"]), text),
    "u": st.one_of(st.sampled_from(["https://example.com/a?b=c", "http://例子.cn/路径", "https://x.test"]), text),
}


@pytest.fixture
def defined(shop):
    for key, spec in FIELDS.items():
        shop.define(key=key, **spec)
    return shop


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional=values))
def test_accepted_values_are_stored_and_returned_unchanged(defined, custom):
    try:
        contact = crm.create("contacts", {"last_name": "P", "custom": custom}, OPERATOR)
    except ValidationError as exc:
        assert all(key.startswith("custom.") for key in exc.messages)  # a refusal names the field
        return
    db.session.commit()
    accepted = dict(contact.custom)
    db.session.expire_all()
    stored = db.session.get(Contact, (contact.tenant_id, contact.id)).custom
    assert stored == accepted
    again = crm.create("contacts", {"last_name": "Q", "custom": stored}, OPERATOR)
    assert again.custom == stored
