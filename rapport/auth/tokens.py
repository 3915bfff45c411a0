"""Signed, expiring links for invitations and password resets.

A reset link carries a fingerprint of the current password hash, so it works once: the reset changes
the hash. An invitation link names a membership that is still ``invited``, so it works once too.
"""
from __future__ import annotations

import uuid

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import User


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"rapport.{purpose}")


def reset_token(user: User) -> str:
    return _serializer("reset").dumps({"u": str(user.id), "p": (user.password_hash or "")[-12:]})


def read_reset_token(token: str, user_loader) -> User | None:
    try:
        data = _serializer("reset").loads(token, max_age=current_app.config["RESET_MAX_AGE"])
        user = user_loader(uuid.UUID(data["u"]))
    except (BadSignature, KeyError, ValueError, TypeError):
        return None
    if user is None or (user.password_hash or "")[-12:] != data.get("p"):
        return None
    return user


def invite_token(membership) -> str:
    return _serializer("invite").dumps({"m": str(membership.id), "t": str(membership.tenant_id)})


def read_invite_token(token: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    try:
        data = _serializer("invite").loads(token, max_age=current_app.config["INVITE_MAX_AGE"])
        return uuid.UUID(data["t"]), uuid.UUID(data["m"])
    except (BadSignature, KeyError, ValueError, TypeError):
        return None
