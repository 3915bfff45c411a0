"""Bearer-token authentication and permission checks for the API.

The tenant is already resolved from the URL by the pipeline, which looks the token up only inside that
tenant (often in the same query), so a token of tenant A presented on tenant B's path is simply unknown
(401). No cookie or session ever authenticates an API call, which is why the API needs no CSRF token.
"""
from __future__ import annotations

import datetime as dt
import functools

from flask import current_app, g
from flask_babel import gettext as _

from ..db import db, utcnow
from ..pipeline import Actor, bearer_secret, grant, request_token
from .errors import ApiProblem

CHALLENGE = 'Bearer realm="rapport"'
TOUCH_EVERY = dt.timedelta(minutes=1)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def authenticate() -> None:
    """``before_request`` of the API blueprint: set ``g.member`` and ``g.actor`` from the token, and
    meter the call (``api.requests``; refused calls are not counted)."""
    if bearer_secret() is None:
        raise ApiProblem(401, _("Unauthorized"), _("Send an API token: Authorization: Bearer <token>."),
                         headers={"WWW-Authenticate": CHALLENGE})
    token = request_token()
    if token is None:
        raise ApiProblem(401, _("Unauthorized"), _("This API token is not valid here, or it was revoked."),
                         headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'})
    member = grant(token.member)
    g.api_token, g.member = token, member
    g.actor = Actor("token", str(token.id), member.user.email, "api")
    _touch(token)
    hooks = current_app.extensions["rapport.plugins"].hooks_for(g.tenant)
    hooks.usage_event(tenant=g.tenant, meter="api.requests", quantity=1)


def _touch(token) -> None:
    """Record when the token was last used, at most once a minute (a write per request would be waste)."""
    now = utcnow()
    if token.last_used_at is None or now - as_utc(token.last_used_at) >= TOUCH_EVERY:
        token.touch(now)
        db.session.commit()


def needs(permission: str):
    """View decorator: the token's member must hold ``permission`` (else 403)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not g.member.can(permission):
                raise ApiProblem(403, _("Forbidden"),
                                 _("This token lacks the permission %(permission)s.", permission=permission))
            return view(*args, **kwargs)

        return wrapped

    return decorator
