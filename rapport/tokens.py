"""API tokens: shown once, stored as SHA-256, bound to one member of one tenant, revocable."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import and_, bindparam, select

from .db import db, utcnow
from .models import ApiToken, Membership, Tenant

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


def _unrevoked_with(secret: str) -> tuple:
    return ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None)


def _live(row: ApiToken | None) -> ApiToken | None:
    if row is None or row.membership is None or row.membership.status != "active":
        return None
    return row


def find_token(secret: str) -> ApiToken | None:
    """The live token with this secret in the active tenant (a token of another tenant is not found)."""
    if not well_formed(secret):
        return None
    return _live(db.session.scalar(select(ApiToken).where(*_unrevoked_with(secret))))


# Built once: the values are parameters (building the statement for every API call cost more than
# running it).
_TENANT_AND_TOKEN = (
    select(Tenant, ApiToken)
    .outerjoin(ApiToken, and_(ApiToken.tenant_id == Tenant.id, ApiToken.token_hash == bindparam("token_hash"),
                              ApiToken.revoked_at.is_(None)))
    .where(Tenant.id == bindparam("tenant_id"), Tenant.slug == bindparam("slug"))
)


def find_tenant_and_token(slug: str, tenant_id, secret: str) -> tuple[Tenant, ApiToken | None] | None:
    """Tenant ``tenant_id`` if it is still named ``slug`` (else None), with the live token that has this
    secret, in one query. Run it with ``tenant_id`` active: row-level security needs it first."""
    row = db.session.execute(
        _TENANT_AND_TOKEN, {"token_hash": _digest(secret), "tenant_id": tenant_id, "slug": slug}
    ).first()
    return None if row is None else (row.Tenant, _live(row.ApiToken))


def revoke(row: ApiToken) -> None:
    row.revoked_at = utcnow()
