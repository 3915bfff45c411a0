"""The audit log: append-only; the app has no code path that edits or deletes an event."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import JSONType, Base, TenantScoped, utcnow


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_record", "tenant_id", "record_type", "record_id", "at"),
        Index("ix_audit_at", "tenant_id", "at", "id"),
    )

    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))  # member, token, form, plugin, operator, system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    channel: Mapped[str] = mapped_column(String(20))  # web, api, cli, form, plugin, import
    action: Mapped[str] = mapped_column(String(20))  # create, update, delete
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID]
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)  # field -> [old, new]
