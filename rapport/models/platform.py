"""Per-tenant platform state: which plugins are on (and their settings), and API idempotency keys."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import JSONType, Base, TenantScoped, utcnow


class PluginState(TenantScoped, Base):
    """A plugin's switch and settings for one tenant. Disabling keeps the row and the plugin's data."""

    __tablename__ = "plugin_states"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin"),)

    plugin: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdempotencyKey(TenantScoped, Base):
    """The first answer to a POST carrying ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "actor", "key"),
        Index("ix_idempotency_created", "tenant_id", "created_at"),
    )

    actor: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
