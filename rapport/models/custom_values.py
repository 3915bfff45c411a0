"""Typed copies of the custom values of fields flagged ``filterable``: one row per record, field and
value (a multi-select gives a row per option), so lists can filter and sort by them through B-tree
indexes led by ``tenant_id``. ``rapport.fields.query`` keeps them in step with the records' JSON."""
from __future__ import annotations

import uuid

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantScoped

TEXT_INDEXED = 200  # text values are indexed by their first 200 characters (sort only)


class CustomValue(TenantScoped, Base):
    __tablename__ = "custom_values"
    __table_args__ = (
        Index("ix_custom_values_num", "tenant_id", "record_type", "field_key", "value_num", "record_id"),
        Index("ix_custom_values_text", "tenant_id", "record_type", "field_key", "value_text", "record_id"),
        # A record's rows, covering what a filter tests: a list that walks its own order probes each
        # record here without reading the table (migration 0006).
        Index("ix_custom_values_record", "tenant_id", "record_id", "record_type", "field_key", "value_num", "value_text"),
    )

    record_type: Mapped[str] = mapped_column(String(40))
    field_key: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[uuid.UUID]
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(TEXT_INDEXED))
