"""The lead-capture plugin's tables: forms, submissions (every one kept, spam included) and the
availability of members for assignment. All tenant-owned, keyed ``(tenant_id, id)`` like the core's."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rapport.db import Base, JSONType, TenantScoped, utcnow

ASSIGNMENT_MODES = ("manual", "round_robin", "rules")
SUBMISSION_STATUSES = ("received", "processed", "quarantined", "discarded")


def _fk(column: str, table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class LeadForm(TenantScoped, Base):
    """A public form. ``fields`` lists what it asks, in order: ``{"key": "email" | "custom.<key>",
    "label": str | None (None: the field's own label), "required": bool}``."""

    __tablename__ = "lead_capture_forms"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug", name="uq_lead_capture_forms_slug"),
        _fk("default_owner_id", "memberships"),
    )

    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list] = mapped_column(JSONType, default=list)
    consent_text: Mapped[str | None] = mapped_column(Text)  # None: no consent checkbox
    consent_version: Mapped[int] = mapped_column(Integer, default=0)  # bumped whenever the text changes
    thank_you_message: Mapped[str] = mapped_column(Text, default="")
    redirect_url: Mapped[str | None] = mapped_column(String(500))
    notify_emails: Mapped[list] = mapped_column(JSONType, default=list)
    lead_source: Mapped[str] = mapped_column(String(100), default="web form")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_origins: Mapped[list] = mapped_column(JSONType, default=list)  # ["https://www.example.com"]
    assignment_mode: Mapped[str] = mapped_column(String(20), default="manual")
    assignees: Mapped[list] = mapped_column(JSONType, default=list)  # membership ids, round-robin order
    rules: Mapped[list] = mapped_column(JSONType, default=list)  # [{"field", "op", "value", "owner_id"}]
    default_owner_id: Mapped[uuid.UUID | None]
    round_robin_position: Mapped[int] = mapped_column(Integer, default=0)
    follow_up_minutes: Mapped[int | None] = mapped_column(Integer)  # None: no speed-to-lead limit
    min_fill_seconds: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Submission(TenantScoped, Base):
    """One submission of a form, stored before the visitor is thanked; the queue then dedupes,
    creates or attaches the lead, assigns and notifies. ``dedupe_key`` makes a repeat (double click,
    retry) land on the same row."""

    __tablename__ = "lead_capture_submissions"
    __table_args__ = (
        _fk("form_id", "lead_capture_forms", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "form_id", "dedupe_key", name="uq_lead_capture_submissions_dedupe"),
        Index("ix_lead_capture_submissions_status", "tenant_id", "status", "received_at"),
        Index("ix_lead_capture_submissions_lead", "tenant_id", "lead_id"),
        Index("ix_lead_capture_submissions_contact", "tenant_id", "contact_id"),
    )

    form_id: Mapped[uuid.UUID]
    dedupe_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="received")
    spam_reason: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)  # core fields and ``custom``, as submitted
    consent_version: Mapped[int | None] = mapped_column(Integer)
    consent_text: Mapped[str | None] = mapped_column(Text)  # the exact text the person agreed to
    utm: Mapped[dict] = mapped_column(JSONType, default=dict)
    referrer: Mapped[str | None] = mapped_column(String(1000))
    landing_page: Mapped[str | None] = mapped_column(String(1000))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # "created" | "attached"
    lead_id: Mapped[uuid.UUID | None]  # the lead created, or attached to
    contact_id: Mapped[uuid.UUID | None]  # the contact attached to
    owner_id: Mapped[uuid.UUID | None]
    assigned_at: Mapped[dt.datetime | None]
    first_response_at: Mapped[dt.datetime | None]  # the owner's first activity on the lead
    reassigned_count: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[dt.datetime | None]


class MemberAvailability(TenantScoped, Base):
    """Whether a member takes leads now: an away flag and weekly working hours in their time zone.
    ``working_hours`` maps ``mon``..``sun`` to ``["09:00", "17:30"]``; a missing day is off; an empty
    map means always available. ``id`` is the membership's id (one row per member)."""

    __tablename__ = "lead_capture_availability"
    __table_args__ = (_fk("id", "memberships", ondelete="CASCADE"),)

    away: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    working_hours: Mapped[dict] = mapped_column(JSONType, default=dict)
