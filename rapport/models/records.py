"""The shared customer record: accounts, contacts, leads with their stage history, and activities.

Relationships are view-only: writes go through the ``*_id`` columns, because un-setting a composite
relationship would also null ``tenant_id``.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

from sqlalchemy import ForeignKeyConstraint, Index, Numeric, String, Text, and_, text
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from ..db import JSONType, Base, TenantScoped, utcnow

STAGES = ("target", "prospect", "opportunity", "customer", "lost")
ACTIVITY_KINDS = ("call", "email", "meeting", "note", "task")


def _fk(column: str, table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A composite foreign key: the database refuses a reference to another tenant's row."""
    return ForeignKeyConstraint(
        ["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete
    )


class OwnedRecord(TenantScoped):
    """Columns every customer record shares."""

    owner_id: Mapped[uuid.UUID | None]
    custom: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Account(OwnedRecord, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        _fk("owner_id", "memberships"),
        Index("ix_accounts_name", "tenant_id", "name", "id"),
        Index("ix_accounts_created", "tenant_id", "created_at", "id"),
        Index("ix_accounts_owner", "tenant_id", "owner_id", "id"),
    )
    record_type = "accounts"

    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    industry: Mapped[str | None] = mapped_column(String(100))


class Contact(OwnedRecord, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        _fk("owner_id", "memberships"),
        _fk("account_id", "accounts"),
        Index("ix_contacts_name", "tenant_id", "last_name", "id"),  # the list's default keyset order
        # Duplicates are found by email whatever its case (lead capture): the index is on lower(email).
        Index("ix_contacts_email", "tenant_id", text("lower(email)")),
        Index("ix_contacts_phone", "tenant_id", "phone"),
        Index("ix_contacts_created", "tenant_id", "created_at", "id"),
        Index("ix_contacts_owner", "tenant_id", "owner_id", "id"),
        Index("ix_contacts_account", "tenant_id", "account_id"),
    )
    record_type = "contacts"

    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[uuid.UUID | None]

    account: Mapped[Account | None] = relationship(
        primaryjoin=lambda: and_(
            foreign(Contact.tenant_id) == Account.tenant_id, foreign(Contact.account_id) == Account.id
        ),
        viewonly=True,
    )

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class Lead(OwnedRecord, Base):
    __tablename__ = "leads"
    __table_args__ = (
        _fk("owner_id", "memberships"),
        _fk("account_id", "accounts"),
        _fk("contact_id", "contacts"),
        Index("ix_leads_name", "tenant_id", "name", "id"),
        Index("ix_leads_email", "tenant_id", text("lower(email)")),
        Index("ix_leads_stage", "tenant_id", "stage", "id"),
        Index("ix_leads_created", "tenant_id", "created_at", "id"),
        Index("ix_leads_owner", "tenant_id", "owner_id", "id"),
    )
    record_type = "leads"

    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20), default="target")
    source: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[decimal.Decimal | None] = mapped_column(Numeric(14, 2))
    account_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    stage_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LeadStageChange(TenantScoped, Base):
    """Every stage a lead went through, with when and who."""

    __tablename__ = "lead_stage_changes"
    __table_args__ = (
        _fk("lead_id", "leads", ondelete="CASCADE"),
        Index("ix_lead_stage_changes_lead", "tenant_id", "lead_id", "changed_at"),
    )

    lead_id: Mapped[uuid.UUID]
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200), default="")


class Activity(TenantScoped, Base):
    """A call, email, meeting, note or task on an account, contact or lead."""

    __tablename__ = "activities"
    __table_args__ = (
        _fk("owner_id", "memberships"),
        _fk("account_id", "accounts", ondelete="CASCADE"),
        _fk("contact_id", "contacts", ondelete="CASCADE"),
        _fk("lead_id", "leads", ondelete="CASCADE"),
        Index("ix_activities_account", "tenant_id", "account_id", "created_at"),
        Index("ix_activities_contact", "tenant_id", "contact_id", "created_at"),
        Index("ix_activities_lead", "tenant_id", "lead_id", "created_at"),
        Index("ix_activities_created", "tenant_id", "created_at", "id"),
        Index("ix_activities_owner", "tenant_id", "owner_id", "id"),
    )
    record_type = "activities"

    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    owner_id: Mapped[uuid.UUID | None]
    account_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


RECORD_MODELS = {m.record_type: m for m in (Account, Contact, Lead, Activity)}
