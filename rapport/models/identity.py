"""Tenants, people and what they may do: users are global, memberships and roles belong to a tenant."""
from __future__ import annotations

import datetime as dt
import uuid

from flask_login import UserMixin
from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from ..db import JSONType, Base, TenantScoped, new_id, utcnow


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    # Bumped on every custom-field definition change: the key of the compiled-schema cache.
    fields_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_operator: Mapped[bool] = mapped_column(default=False)
    # Changed at log-out: every session cookie issued before then stops working, even a copied one.
    session_nonce: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_fingerprint}"

    @property
    def session_fingerprint(self) -> str:
        """Ties a session to the password hash and the log-out nonce: changing either ends it."""
        return f"{(self.password_hash or '')[-12:]}{self.session_nonce or ''}"

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Role(TenantScoped, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    permissions: Mapped[list] = mapped_column(JSONType, default=list)
    builtin: Mapped[bool] = mapped_column(default=False)


class Membership(TenantScoped, Base):
    """A user's place in one tenant, with one role. ``status`` is ``invited`` until the invite is used."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        ForeignKeyConstraint(["tenant_id", "role_id"], ["roles.tenant_id", "roles.id"]),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", viewonly=True)
    role: Mapped[Role] = relationship(
        primaryjoin=lambda: and_(
            foreign(Membership.tenant_id) == Role.tenant_id, foreign(Membership.role_id) == Role.id
        ),
        lazy="joined",
        viewonly=True,
    )

    # Filled by the request pipeline from the role (built-in roles take the registry's defaults).
    granted = frozenset()

    def can(self, permission: str) -> bool:
        return permission in self.granted


class ApiToken(TenantScoped, Base):
    """A bearer token bound to one member of one tenant; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        ForeignKeyConstraint(
            ["tenant_id", "membership_id"], ["memberships.tenant_id", "memberships.id"], ondelete="CASCADE"
        ),
    )

    membership_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    membership: Mapped[Membership] = relationship(
        primaryjoin=lambda: and_(
            foreign(ApiToken.tenant_id) == Membership.tenant_id,
            foreign(ApiToken.membership_id) == Membership.id,
        ),
        lazy="joined",
        viewonly=True,
    )


# Log-in lists a user's tenants, a question that spans tenants by nature (not unique, so Citus accepts it).
Index("ix_memberships_user", Membership.user_id)
