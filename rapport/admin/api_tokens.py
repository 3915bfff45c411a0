"""API tokens: a member's own tokens (name, prefix, created, last used, revoked), creation with the
secret shown once on the result page and never again, and revocation."""
from __future__ import annotations

import uuid

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from .. import tokens as token_store
from ..db import db
from ..models import ApiToken
from ..pipeline import require
from . import bp

MAX_NAME = 100


def _own_tokens() -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.membership_id == g.member.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def _tokens_page(errors=None, name: str = "", status: int = 200):
    return render_template("admin/tokens.html", tokens=_own_tokens(), errors=errors or {}, name=name), status


@bp.get("/tokens")
@require("tokens.manage")
def tokens():
    return _tokens_page()


@bp.post("/tokens")
@require("tokens.manage")
def create_token():
    name = (request.form.get("name") or "").strip()
    if not name:
        return _tokens_page({"name": [_("Give the token a name, e.g. the tool that will use it.")]}, name, 422)
    if len(name) > MAX_NAME:
        return _tokens_page({"name": [_("Use at most %(max)d characters.", max=MAX_NAME)]}, name, 422)
    row, secret = token_store.create_token(g.member, name)
    audit.log(g.actor, "create", "api_tokens", row.id, {"name": (None, row.name), "prefix": (None, row.prefix)})
    db.session.commit()
    # The only time the secret exists outside the caller's hands: answer it directly, never cache it.
    response = render_template("admin/token_created.html", token=row, secret=secret)
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<uuid:token_id>/revoke")
@require("tokens.manage")
def revoke_token(token_id: uuid.UUID):
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.membership_id == g.member.id))
    if row is None:
        abort(404)  # another member's token is not there for this member
    if row.revoked_at is None:
        token_store.revoke(row)
        audit.log(g.actor, "update", "api_tokens", row.id, {"revoked_at": (None, row.revoked_at)})
        db.session.commit()
        flash(_("Token %(name)s revoked.", name=row.name))
    return redirect(url_for("admin.tokens"))
