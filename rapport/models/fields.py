"""Custom-field definitions: each tenant shapes its own accounts, contacts and leads."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import JSONType, Base, TenantScoped, utcnow


class FieldDefinition(TenantScoped, Base):
    """One custom field of one record type. ``status`` is active, archived (hidden, values kept) or
    deleted (values removed; the row stays so that the key is never reused in that record type)."""

    __tablename__ = "field_definitions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "record_type", "key"),
        Index("ix_field_definitions_order", "tenant_id", "record_type", "status", "position"),
    )

    record_type: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    help_text: Mapped[str] = mapped_column(String(1000), default="")
    type: Mapped[str] = mapped_column(String(32))
    required: Mapped[bool] = mapped_column(default=False)
    default: Mapped[object | None] = mapped_column(JSONType)
    position: Mapped[int] = mapped_column(default=0)
    options: Mapped[list] = mapped_column(JSONType, default=list)  # [{"value", "label"}] for selects
    config: Mapped[dict] = mapped_column(JSONType, default=dict)  # per type: bounds, pattern, currency...
    show_in: Mapped[dict] = mapped_column(JSONType, default=dict)  # staff, api, forms: bool; portal: none/read/edit
    roles: Mapped[list] = mapped_column(JSONType, default=list)  # role keys that see it; empty = every role
    pii: Mapped[bool] = mapped_column(default=False)
    filterable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status == "active"
