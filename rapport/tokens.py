"""API tokens: shown once, stored as SHA-256, bound to one member of one tenant, revocable."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select, update

from .db import db, utcnow
from .models import ApiToken, Membership, Role, Tenant, User

PREFIX = "rpt_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(member: Membership, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``member`` (in the active tenant); returns the row and the only copy of the secret."""
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(membership_id=member.id, name=name.strip()[:100] or "token", token_hash=_digest(secret), prefix=secret[:10])
    db.session.add(row)
    db.session.flush()
    return row, secret


def well_formed(secret: str) -> bool:
    return secret.startswith(PREFIX) and len(secret) <= 200


# The token with the secret's digest (bound as ``token_hash``) that is not revoked: every lookup's
# condition, in statements built once with the digest as a parameter.
_UNREVOKED = (ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))


def _live(row: ApiToken | None) -> ApiToken | None:
    if row is None or row.membership is None or row.membership.status != "active":
        return None
    return row


def find_token(secret: str) -> ApiToken | None:
    """The live token with this secret in the active tenant (a token of another tenant is not found)."""
    if not well_formed(secret):
        return None
    return _live(db.session.scalar(_TOKEN_ROW, {"token_hash": _digest(secret)}))


_TOKEN_ROW = select(ApiToken).where(*_UNREVOKED)


@dataclass(frozen=True)
class TokenUser:
    email: str
    name: str
    locale: str | None

    @property
    def display_name(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class TokenRole:
    key: str
    builtin: bool
    permissions: list


@dataclass(eq=False)
class TokenMember:
    """The member an API token acts for, as ``g.member`` on an API call: the attributes of a
    :class:`Membership` that a request reads (``id``, ``status``, ``user``, ``role``, ``granted``,
    ``can``), read with the token as plain columns. Building the five ORM objects (tenant, token,
    membership, user, role) was the largest single cost of an API call; this is read-only."""

    id: uuid.UUID
    user_id: uuid.UUID
    role_id: uuid.UUID
    status: str
    user: TokenUser
    role: TokenRole | None
    granted: frozenset = frozenset()  # filled by pipeline.grant, as for a Membership

    def can(self, permission: str) -> bool:
        return permission in self.granted


@dataclass(frozen=True)
class LiveToken:
    """A live (unrevoked, active member) API token as an API call sees it."""

    id: uuid.UUID
    last_used_at: dt.datetime | None
    member: TokenMember

    def touch(self, now: dt.datetime) -> None:
        """Record a use (the caller commits)."""
        db.session.execute(update(ApiToken).where(ApiToken.id == self.id).values(last_used_at=now))


_PRINCIPAL = (ApiToken.id, ApiToken.last_used_at, Membership.id, Membership.user_id, Membership.role_id,
              Membership.status, User.email, User.name, User.locale, Role.key, Role.builtin, Role.permissions)


def _with_member(stmt):
    """``stmt`` (which has ApiToken) with the token's membership, user and role as outer joins."""
    return (stmt
            .outerjoin(Membership, and_(Membership.tenant_id == ApiToken.tenant_id, Membership.id == ApiToken.membership_id))
            .outerjoin(User, User.id == Membership.user_id)
            .outerjoin(Role, and_(Role.tenant_id == Membership.tenant_id, Role.id == Membership.role_id)))


def _live_token(row) -> LiveToken | None:
    """The token of a row of ``_PRINCIPAL`` columns, when there is one and its member is active."""
    (token_id, last_used_at, member_id, user_id, role_id, status, email, name, locale,
     role_key, builtin, permissions) = row[-len(_PRINCIPAL):]
    if token_id is None or member_id is None or status != "active":
        return None
    role = TokenRole(role_key, builtin, permissions or []) if role_key is not None else None
    member = TokenMember(member_id, user_id, role_id, status, TokenUser(email, name or "", locale), role)
    return LiveToken(token_id, last_used_at, member)


# Built once: the values are parameters (building the statement for every API call cost more than
# running it).
_TOKEN = _with_member(select(*_PRINCIPAL).select_from(ApiToken)).where(*_UNREVOKED)
_TENANT_AND_TOKEN = (
    _with_member(select(Tenant, *_PRINCIPAL).outerjoin(ApiToken, and_(ApiToken.tenant_id == Tenant.id, *_UNREVOKED)))
    .where(Tenant.id == bindparam("tenant_id"), Tenant.slug == bindparam("slug"))
)


def find_live_token(secret: str) -> LiveToken | None:
    """As :func:`find_token`, as an API call sees it (:class:`LiveToken`)."""
    if not well_formed(secret):
        return None
    row = db.session.execute(_TOKEN, {"token_hash": _digest(secret)}).first()
    return None if row is None else _live_token(row)


def find_tenant_and_token(slug: str, tenant_id, secret: str) -> tuple[Tenant, LiveToken | None] | None:
    """Tenant ``tenant_id`` if it is still named ``slug`` (else None), with the live token that has this
    secret, in one query. Run it with ``tenant_id`` active: row-level security needs it first."""
    row = db.session.execute(
        _TENANT_AND_TOKEN, {"token_hash": _digest(secret), "tenant_id": tenant_id, "slug": slug}
    ).first()
    return None if row is None else (row[0], _live_token(row))


def revoke(row: ApiToken) -> None:
    row.revoked_at = utcnow()
