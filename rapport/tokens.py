"""API tokens: shown once, stored as SHA-256, bound to one member of one tenant, revocable."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from .db import db, utcnow
from .models import ApiToken, Membership

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


def find_token(secret: str) -> ApiToken | None:
    """The live token with this secret in the active tenant (a token of another tenant is not found)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None)))
    if row is None or row.membership is None or row.membership.status != "active":
        return None
    return row


def revoke(row: ApiToken) -> None:
    row.revoked_at = utcnow()
