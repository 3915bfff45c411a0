"""Who gets a captured lead: per form, manual (nobody: the unassigned queue), round-robin across the
form's assignees who are available now, or rules on the lead's fields in order; the form's default
owner catches what the rotation or the rules leave.

"Available now" means an active membership, not marked away, and inside the member's weekly working
hours in their own time zone (no hours set: always). ``working_minutes`` counts the same hours for
the speed-to-lead limit.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from rapport import tenancy
from rapport.db import db, utcnow
from rapport.models import Membership, Role, User

from .models import LeadForm, MemberAvailability

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
RULE_OPERATORS = ("eq", "in", "contains")
MANAGER_ROLES = ("owner", "admin", "manager")


# --- availability ---------------------------------------------------------------------------------
def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):  # validated on save; a zone dropped from tzdata later
        return ZoneInfo("UTC")


def parse_hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def day_hours(availability: MemberAvailability, day_index: int) -> tuple[dt.time, dt.time] | None:
    """The working hours on one weekday, or None when that day is off."""
    span = (availability.working_hours or {}).get(DAYS[day_index])
    if not span:
        return None
    return parse_hhmm(span[0]), parse_hhmm(span[1])


def in_working_hours(availability: MemberAvailability | None, now: dt.datetime) -> bool:
    if availability is None or not availability.working_hours:
        return True
    local = aware(now).astimezone(zone(availability.timezone))
    hours = day_hours(availability, local.weekday())
    return hours is not None and hours[0] <= local.time().replace(tzinfo=None) < hours[1]


def availability_of(membership_id: uuid.UUID) -> MemberAvailability | None:
    return db.session.get(MemberAvailability, (tenancy.current_tenant_id(), membership_id))


def active_member(membership_id) -> Membership | None:
    if membership_id is None:
        return None
    try:
        key = membership_id if isinstance(membership_id, uuid.UUID) else uuid.UUID(str(membership_id))
    except ValueError:
        return None
    member = db.session.get(Membership, (tenancy.current_tenant_id(), key))
    return member if member is not None and member.status == "active" else None


def is_available(membership_id, now: dt.datetime | None = None) -> bool:
    """Takes leads now: an active member, not away, within their working hours."""
    member = active_member(membership_id)
    if member is None:
        return False
    availability = availability_of(member.id)
    if availability is not None and availability.away:
        return False
    return in_working_hours(availability, now or utcnow())


def working_minutes(availability: MemberAvailability | None, start: dt.datetime, end: dt.datetime) -> float:
    """Minutes between ``start`` and ``end`` that fall in the member's working hours (in their time
    zone, day by day, so a night or a weekend does not count). No hours set: every minute counts."""
    start, end = aware(start), aware(end)
    if end <= start:
        return 0.0
    if availability is None or not availability.working_hours:
        return (end - start).total_seconds() / 60
    tz = zone(availability.timezone)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    total = 0.0
    while day <= last:
        hours = day_hours(availability, day.weekday())
        if hours is not None:
            # Built from the local wall clock, so a daylight-saving change shifts the window correctly.
            opens = dt.datetime.combine(day, hours[0], tzinfo=tz)
            closes = dt.datetime.combine(day, hours[1], tzinfo=tz)
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            total += max(overlap, 0) / 60
        day += dt.timedelta(days=1)
    return total


# --- choosing an owner ----------------------------------------------------------------------------
def choose_owner(form: LeadForm, values: dict, exclude=(), now: dt.datetime | None = None) -> uuid.UUID | None:
    """The owner for a lead with ``values`` ({"name", "email", ..., "custom": {...}}) captured by
    ``form``, leaving out the members in ``exclude``; None means unassigned."""
    now = now or utcnow()
    excluded = {str(m) for m in exclude if m is not None}
    if form.assignment_mode == "round_robin":
        found = next_in_rotation(form, excluded, now)
    elif form.assignment_mode == "rules":
        found = first_matching_rule_owner(form, values, excluded, now)
    else:
        return None  # manual: the unassigned queue
    return found or default_owner(form, excluded)


def default_owner(form: LeadForm, excluded: set[str]) -> uuid.UUID | None:
    """The fallback takes leads whatever their hours: someone must see them, and the managers are
    told of an unassigned lead anyway."""
    member = active_member(form.default_owner_id)
    if member is None or str(member.id) in excluded:
        return None
    return member.id


def next_in_rotation(form: LeadForm, excluded: set[str], now: dt.datetime) -> uuid.UUID | None:
    """Strict rotation: the next available assignee after the last one served. The form row is
    locked (PostgreSQL; SQLite serialises writers anyway) so two workers never hand out one turn."""
    locked = db.session.scalars(
        select(LeadForm).where(LeadForm.id == form.id).with_for_update(key_share=True)  # see processing.locked_submission
        .execution_options(populate_existing=True)
    ).one()
    assignees = [str(a) for a in locked.assignees or []]
    if not assignees:
        return None
    start = (locked.round_robin_position or 0) % len(assignees)
    for step in range(len(assignees)):
        index = (start + step) % len(assignees)
        candidate = assignees[index]
        if candidate not in excluded and is_available(candidate, now):
            locked.round_robin_position = (index + 1) % len(assignees)
            db.session.flush()
            return uuid.UUID(candidate)
    return None


def first_matching_rule_owner(form: LeadForm, values: dict, excluded: set[str], now: dt.datetime) -> uuid.UUID | None:
    """The owner of the first rule that matches and whose owner is available; later rules are tried
    when that owner is away or off work."""
    for rule in form.rules or []:
        owner = str(rule.get("owner_id") or "")
        if owner and owner not in excluded and rule_matches(rule, values) and is_available(owner, now):
            return uuid.UUID(owner)
    return None


def field_value(values: dict, field: str):
    if field.startswith("custom."):
        return (values.get("custom") or {}).get(field.removeprefix("custom."))
    return values.get(field)


def rule_matches(rule: dict, values: dict) -> bool:
    """``eq``: equal (a multi-select: holds the value); ``in``: equal to one of a list (a
    multi-select: holds one of them); ``contains``: text containing the value (a multi-select: an
    option containing it). Text compares case-insensitively."""
    op = rule.get("op", "eq")
    actual = field_value(values, str(rule.get("field", "")))
    if actual is None or actual == "" or actual == []:
        return False
    wanted = rule.get("value")
    candidates = wanted if isinstance(wanted, list) else [wanted]
    items = actual if isinstance(actual, list) else [actual]
    if op == "contains":
        return any(_norm(c) in _norm(item) for c in candidates for item in items if c not in (None, ""))
    if op in ("eq", "in"):
        return any(_equal(item, c) for c in candidates for item in items)
    return False


def _norm(value) -> str:
    return str(value).strip().casefold()


def _equal(actual, wanted) -> bool:
    if wanted is None:
        return False
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return _norm(actual) == _norm(wanted)
    if isinstance(actual, (int, float, decimal.Decimal)) or isinstance(wanted, (int, float, decimal.Decimal)):
        try:
            return decimal.Decimal(str(actual)) == decimal.Decimal(str(wanted))
        except decimal.InvalidOperation:
            return False
    return _norm(actual) == _norm(wanted)


# --- who hears about it ---------------------------------------------------------------------------
def manager_emails() -> list[str]:
    """Active members whose role is owner, admin or manager: they are told of unassigned and
    reassigned leads."""
    rows = db.session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.status == "active", Role.key.in_(MANAGER_ROLES))
        .order_by(User.email)
    )
    return list(dict.fromkeys(rows))
