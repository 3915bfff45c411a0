"""Writing audit events. The app only ever appends: no view, API or command edits or deletes them."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

from .db import db
from .models import AuditEvent


def plain(value):
    """A JSON-safe copy of a column value."""
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def log(actor, action: str, record_type: str, record_id: uuid.UUID, changes: dict) -> AuditEvent:
    event = AuditEvent(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:254],
        channel=actor.channel,
        action=action,
        record_type=record_type,
        record_id=record_id,
        changes={k: [plain(old), plain(new)] for k, (old, new) in changes.items()},
    )
    db.session.add(event)
    return event
