"""Working hours in the member's time zone: who is available at a given moment, and how many
working minutes lie between two moments (daylight saving included)."""
from __future__ import annotations

import datetime as dt

import pytest

from plugins.lead_capture.assignment import in_working_hours, rule_matches, working_minutes
from plugins.lead_capture.models import MemberAvailability

UTC = dt.timezone.utc
WEEKDAYS = {"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"],
            "thu": ["09:00", "17:00"], "fri": ["09:00", "17:00"]}


def hours(timezone="UTC", working_hours=None, away=False) -> MemberAvailability:
    return MemberAvailability(timezone=timezone, working_hours=working_hours or {}, away=away)


@pytest.mark.parametrize("moment, expected", [
    (dt.datetime(2026, 12, 7, 8, 30, tzinfo=UTC), True),   # Monday 09:30 in Berlin
    (dt.datetime(2026, 12, 7, 7, 59, tzinfo=UTC), False),  # Monday 08:59 in Berlin
    (dt.datetime(2026, 12, 7, 16, 0, tzinfo=UTC), False),  # Monday 17:00 in Berlin: the end is exclusive
    (dt.datetime(2026, 12, 5, 12, 0, tzinfo=UTC), False),  # Saturday
])
def test_working_hours_are_read_in_the_members_zone(moment, expected):
    assert in_working_hours(hours("Europe/Berlin", WEEKDAYS), moment) is expected


def test_no_hours_means_always():
    assert in_working_hours(hours(), dt.datetime(2026, 12, 6, 3, 0, tzinfo=UTC))
    assert in_working_hours(None, dt.datetime(2026, 12, 6, 3, 0, tzinfo=UTC))


def test_working_minutes_skip_nights_and_weekends():
    berlin = hours("Europe/Berlin", WEEKDAYS)
    friday_1650 = dt.datetime(2026, 12, 4, 15, 50, tzinfo=UTC)  # 16:50 in Berlin
    monday_0920 = dt.datetime(2026, 12, 7, 8, 20, tzinfo=UTC)  # 09:20 in Berlin
    assert working_minutes(berlin, friday_1650, monday_0920) == pytest.approx(30)


def test_working_minutes_follow_daylight_saving():
    # Berlin moves to summer time on Sunday 2026-03-29: Monday 09:00 is then 07:00 UTC, not 08:00.
    berlin = hours("Europe/Berlin", WEEKDAYS)
    saturday = dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    monday_0730_utc = dt.datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert working_minutes(berlin, saturday, monday_0730_utc) == pytest.approx(30)


def test_without_hours_every_minute_counts():
    start = dt.datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    assert working_minutes(hours(), start, start + dt.timedelta(hours=2)) == pytest.approx(120)


@pytest.mark.parametrize("rule, values, expected", [
    ({"field": "custom.size", "op": "eq", "value": 50}, {"custom": {"size": 50}}, True),
    ({"field": "custom.size", "op": "eq", "value": "50"}, {"custom": {"size": 50.0}}, True),
    ({"field": "custom.size", "op": "in", "value": [10, 20]}, {"custom": {"size": 50}}, False),
    ({"field": "email", "op": "contains", "value": "@ACME."}, {"email": "x@acme.example"}, True),
    ({"field": "custom.tags", "op": "contains", "value": "ener"}, {"custom": {"tags": ["Energy"]}}, True),
    ({"field": "custom.missing", "op": "eq", "value": "x"}, {"custom": {}}, False),
    ({"field": "name", "op": "unknown", "value": "x"}, {"name": "x"}, False),
])
def test_rule_operators(rule, values, expected):
    assert rule_matches(rule, values) is expected
