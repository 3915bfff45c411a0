"""The audit log, read-only: newest first, keyset-paged, filtered by record type, action, actor type,
channel, date range and record id. There is deliberately no route here that edits or deletes events.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select, tuple_

from ..db import db
from ..listing import _date, _decode_cursor, _encode_cursor
from ..models import AuditEvent
from ..models.records import RECORD_MODELS
from ..pipeline import require
from ..ui.record_types import RECORD_TYPES as RECORD_PAGES
from ..ui.timeline import ACTION_LABELS, CHANNEL_LABELS
from . import bp

ACTIONS = ("create", "update", "delete")
ACTOR_TYPES = ("member", "token", "form", "plugin", "operator", "system")
CHANNELS = ("web", "api", "cli", "form", "plugin", "import")
RECORD_TYPES = tuple(sorted(RECORD_MODELS)) + ("api_tokens", "memberships", "plugins", "roles")
RECORD_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")
FILTERS = ("record_type", "action", "actor_type", "channel", "date_from", "date_to", "record_id")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# What the page shows for the stored codes (filters still take the codes).
LABELS = {
    "action": ACTION_LABELS,
    "channel": CHANNEL_LABELS,
    "actor_type": {
        "member": _l("member"), "token": _l("API token"), "form": _l("public form"),
        "plugin": _l("plugin"), "operator": _l("operator"), "system": _l("system"),
    },
    "record_type": {
        **{key: page.plural for key, page in RECORD_PAGES.items()},
        "api_tokens": _l("API tokens"), "memberships": _l("Members"), "plugins": _l("Plugins"), "roles": _l("Roles"),
    },
}


def _choice(args, name: str, allowed) -> str | None:
    raw = (args.get(name) or "").strip()
    if raw and raw not in allowed:
        raise ValidationError({name: [_("Choose one of: %(values)s.", values=", ".join(allowed))]})
    return raw or None


def _day_bound(name: str, raw: str, end_of_day: bool) -> dt.datetime:
    """A date (or date-time); a bare ``date_to`` day counts whole, up to its last instant."""
    value = _date(name, raw)
    if end_of_day and len(raw) == 10:
        value += dt.timedelta(days=1)
    return value


def _limit(args) -> int:
    raw = args.get("limit") or str(PAGE_SIZE)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationError({"limit": [_("Use a whole number from 1 to %(max)d.", max=MAX_PAGE_SIZE)]})
    return int(raw)


def build_query(args):
    """The filtered, newest-first statement and its page size, or ValidationError naming the filter."""
    stmt = select(AuditEvent)
    errors = {}
    checks = {
        "action": lambda: AuditEvent.action == _choice(args, "action", ACTIONS),
        "actor_type": lambda: AuditEvent.actor_type == _choice(args, "actor_type", ACTOR_TYPES),
        "channel": lambda: AuditEvent.channel == _choice(args, "channel", CHANNELS),
        "record_type": lambda: AuditEvent.record_type == _record_type(args),
        "record_id": lambda: AuditEvent.record_id == _record_id(args),
        "date_from": lambda: AuditEvent.at >= _day_bound("date_from", args["date_from"].strip(), False),
        "date_to": lambda: AuditEvent.at < _day_bound("date_to", args["date_to"].strip(), True),
    }
    for name, clause in checks.items():
        if not (args.get(name) or "").strip():
            continue
        try:
            stmt = stmt.where(clause())
        except ValidationError as exc:
            errors.update(exc.messages)
    try:
        limit = _limit(args)
        if args.get("cursor"):
            at, event_id = _decode_cursor(args["cursor"], AuditEvent.at)
            stmt = stmt.where(tuple_(AuditEvent.at, AuditEvent.id) < (at, event_id))
    except ValidationError as exc:
        errors.update(exc.messages)
    if errors:
        raise ValidationError(errors)
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), limit


def _record_type(args) -> str:
    raw = args["record_type"].strip()
    if not RECORD_TYPE_NAME.match(raw):
        raise ValidationError({"record_type": [_("Not a record type name.")]})
    return raw


def _record_id(args) -> uuid.UUID:
    try:
        return uuid.UUID(args["record_id"].strip())
    except ValueError:
        raise ValidationError({"record_id": [_("Not a valid record id.")]}) from None


def shown(value) -> str:
    """A field value as text; the template escapes it."""
    if value is None:
        return "∅"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _fetch(args):
    stmt, limit = build_query(args)
    events = list(db.session.scalars(stmt.limit(limit + 1)))
    next_cursor = None
    if len(events) > limit:
        events = events[:limit]
        next_cursor = _encode_cursor(events[-1].at, events[-1].id)
    return events, next_cursor


@bp.get("/audit")
@require("audit.read")
def audit():
    filters = {name: request.args.get(name, "") for name in FILTERS}
    try:
        events, next_cursor = _fetch(request.args)
        errors, status = {}, 200
    except ValidationError as exc:
        events, next_cursor, errors, status = [], None, exc.messages, 422
    return render_template(
        "admin/audit.html",
        events=events,
        next_cursor=next_cursor,
        filters=filters,
        active_filters={k: v for k, v in {**filters, "limit": request.args.get("limit", "")}.items() if v},
        errors=errors,
        shown=shown,
        labels=LABELS,
        choices={
            "action": [(v, LABELS["action"][v]) for v in ACTIONS],
            "actor_type": [(v, LABELS["actor_type"][v]) for v in ACTOR_TYPES],
            "channel": [(v, LABELS["channel"][v]) for v in CHANNELS],
            "record_type": RECORD_TYPES,
        },
    ), status
