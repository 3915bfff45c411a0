"""Members say when they take leads: an away flag and weekly working hours in their time zone.
Every member sets their own; admins (``forms.manage``) see the whole team and edit anyone's.
Round-robin, rules and the speed-to-lead limit read these rows (``assignment``)."""
from __future__ import annotations

import functools
import re
import uuid
import zoneinfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from rapport import hookimpl, tenancy
from rapport.db import db
from rapport.models import Membership, User
from rapport.pipeline import require

from . import assignment
from .models import MemberAvailability

bp = Blueprint("lead_capture_availability", __name__, url_prefix="/t/<tenant_slug>/lead-capture/availability",
               template_folder="templates")

MANAGE = "forms.manage"
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
DAY_LABELS = {
    "mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"), "thu": _l("Thursday"),
    "fri": _l("Friday"), "sat": _l("Saturday"), "sun": _l("Sunday"),
}


@hookimpl(specname="menu_items")
def availability_menu_items(member):
    """Every member's entry: when they take leads (admins find the whole team on the same page)."""
    return [{"section": "nav", "label": _l("My availability"), "endpoint": "lead_capture_availability.mine"}]


@functools.lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name known here (the same for every tenant, so cached per process)."""
    return tuple(sorted(zoneinfo.available_timezones()))


# --- reading and validating the form --------------------------------------------------------------
def form_values(availability: MemberAvailability | None) -> dict:
    """The stored availability as the form's fields."""
    values = {"away": bool(availability and availability.away),
              "timezone": (availability.timezone if availability else "") or "UTC"}
    for day, span in ((availability.working_hours if availability else None) or {}).items():
        values[f"start_{day}"], values[f"end_{day}"] = span[0], span[1]
    return values


def _day_errors(day: str, start: str, end: str, errors: dict) -> list[str] | None:
    """Validate one day's pair; None when the day is off (both empty) or has an error."""
    if not start and not end:
        return None
    for name, value in ((f"start_{day}", start), (f"end_{day}", end)):
        if not value:
            errors[name] = [_("Give both times, or leave both empty for a day off.")]
        elif not HHMM.match(value):
            errors[name] = [_("Use the 24-hour time HH:MM, e.g. 09:30.")]
    if errors.get(f"start_{day}") or errors.get(f"end_{day}"):
        return None
    if start >= end:
        errors[f"end_{day}"] = [_("The end must be after the start.")]
        return None
    return [start, end]


def parse(form) -> tuple[dict, dict]:
    """The posted form as ``{"away", "timezone", "working_hours"}``, and errors keyed by field."""
    errors: dict = {}
    timezone = (form.get("timezone") or "").strip()
    if not timezone:
        errors["timezone"] = [_("Give a time zone.")]
    elif timezone not in time_zones():
        errors["timezone"] = [_("Use an IANA time zone name, e.g. Europe/Berlin or Asia/Shanghai.")]
    hours = {}
    for day in assignment.DAYS:
        span = _day_errors(day, (form.get(f"start_{day}") or "").strip(), (form.get(f"end_{day}") or "").strip(), errors)
        if span:
            hours[day] = span
    return {"away": form.get("away") == "on", "timezone": timezone, "working_hours": hours}, errors


def save(membership: Membership, values: dict) -> MemberAvailability:
    row = assignment.availability_of(membership.id)
    if row is None:
        row = MemberAvailability(id=membership.id)
        db.session.add(row)
    row.away, row.timezone, row.working_hours = values["away"], values["timezone"], values["working_hours"]
    db.session.commit()
    return row


# --- pages ----------------------------------------------------------------------------------------
def team_rows() -> list[dict]:
    """Everyone's availability, for admins."""
    members = db.session.scalars(
        select(Membership).join(User, User.id == Membership.user_id).where(Membership.status == "active")
        .order_by(User.email)
    )
    rows = []
    for member in members:
        row = assignment.availability_of(member.id)
        rows.append({"member": member, "availability": row, "available": assignment.is_available(member.id)})
    return rows


def render(subject: Membership, values: dict, errors: dict, status: int = 200):
    is_self = subject.id == g.member.id
    action = (url_for(".mine") if is_self else url_for(".edit", membership_id=subject.id))
    return render_template(
        "lead_capture/availability.html",
        subject=subject, is_self=is_self, values=values, errors=errors, action=action,
        days=[(d, DAY_LABELS[d]) for d in assignment.DAYS], zones=time_zones(),
        team=team_rows() if g.member.can(MANAGE) else None,
    ), status


def handle(subject: Membership):
    if request.method == "POST":
        values, errors = parse(request.form)
        if errors:
            shown = {**request.form.to_dict(), "away": values["away"]}
            return render(subject, shown, errors, 422)
        save(subject, values)
        flash(_("Availability saved."))
        return redirect(request.path)
    return render(subject, form_values(assignment.availability_of(subject.id)), {})


@bp.route("/", methods=["GET", "POST"])
@require()
def mine():
    return handle(g.member)


@bp.route("/<uuid:membership_id>", methods=["GET", "POST"])
@require(MANAGE)
def edit(membership_id: uuid.UUID):
    subject = db.session.get(Membership, (tenancy.current_tenant_id(), membership_id))
    if subject is None:
        abort(404)
    return handle(subject)
