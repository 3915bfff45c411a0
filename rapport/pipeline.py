"""The request pipeline for tenant URLs: resolve the tenant from the URL (404 early), then the member
(session or API token), then check access, then run the view.

The tenant comes only from the URL (``/t/<tenant_slug>/``), never from a header a client can set.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import Flask, abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, bindparam, select

from . import tenancy, tokens
from .db import db
from .models import Membership, PluginState, Tenant
from .plugin_host import EXTENSION as PLUGINS_EXTENSION


@dataclass(frozen=True)
class Actor:
    """Who did something, for the audit log: member, token, form, plugin, operator or system."""

    type: str
    id: str | None
    label: str
    channel: str

    @classmethod
    def operator(cls, label: str = "operator") -> "Actor":
        return cls("operator", None, label, "cli")


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def _pull_tenant(_endpoint, values):
        # Each request starts from empty request state. Where an app context outlives a request
        # (tests, scripts), nothing of the previous request's tenant, member or logged-in user
        # (flask-login caches it in ``g``) may carry over into this one.
        g.__dict__.clear()
        if values and "tenant_slug" in values:
            g.tenant_slug = values.pop("tenant_slug")

    @app.url_defaults
    def _add_tenant(endpoint, values):
        if "tenant_slug" in values or not g.get("tenant"):
            return
        if app.url_map.is_endpoint_expecting(endpoint, "tenant_slug"):
            values["tenant_slug"] = g.tenant.slug

    @app.before_request
    def _resolve_tenant():
        slug = g.get("tenant_slug")
        if slug is None:
            return None
        tenant = _load_tenant(slug)
        if tenant is None:
            abort(404)
        g.tenant = tenant
        g.tenant_token = tenancy.activate(tenant.id)
        if not tenant.is_active:
            return suspended_response(tenant)
        return None

    @app.teardown_request
    def _release_tenant(_exc):
        token = g.pop("tenant_token", None)
        if token is not None:
            tenancy.deactivate(token)


_TENANT_IDS = "rapport.tenant_ids"
_TENANT_IDS_KEPT = 10_000


def _load_tenant(slug: str) -> Tenant | None:
    """The tenant named by ``slug``; on an API call, the bearer token comes in the same query when
    this process has seen the tenant before (see :func:`request_token`).

    The app keeps the slug -> id of the tenants it has served: only the id, never the tenant, whose row
    is read on every request (a suspension or a deletion shows on the next one). Knowing the id before
    the first query is what lets the tenant and the token come together: row-level security needs it.
    """
    tenant_ids = current_app.extensions.setdefault(_TENANT_IDS, {})
    secret, known = bearer_secret(), tenant_ids.get(slug)
    if known is not None and secret is not None and tokens.well_formed(secret):
        with tenancy.tenant_scope(known):
            found = tokens.find_tenant_and_token(slug, known, secret)
        if found is not None:
            tenant, g.request_token = found
            return tenant
    if known is not None and secret is None:
        found = _tenant_with_plugins(slug, known)
        if found is not None:
            return found
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is not None:
        if len(tenant_ids) >= _TENANT_IDS_KEPT:
            tenant_ids.clear()
        tenant_ids[slug] = tenant.id
    return tenant


_TENANT_WITH_PLUGINS = (  # built once, the values as parameters
    select(Tenant, PluginState.plugin)
    .outerjoin(PluginState, and_(PluginState.tenant_id == Tenant.id, PluginState.enabled.is_(True)))
    .where(Tenant.id == bindparam("tenant_id"), Tenant.slug == bindparam("slug"))
)


def _tenant_with_plugins(slug: str, tenant_id) -> Tenant | None:
    """Tenant ``tenant_id`` if it is still named ``slug``, with the plugins it has switched on, in one
    query (one row per enabled plugin): a page or a public form of a plugin needs both."""
    with tenancy.tenant_scope(tenant_id):
        rows = db.session.execute(_TENANT_WITH_PLUGINS, {"tenant_id": tenant_id, "slug": slug}).all()
    if not rows:
        return None
    host = current_app.extensions.get(PLUGINS_EXTENSION)
    if host is not None:
        host.remember_enabled(tenant_id, [row.plugin for row in rows if row.plugin])
    return rows[0].Tenant


def is_api_request() -> bool:
    return "/api/" in request.path


def bearer_secret() -> str | None:
    """The secret of ``Authorization: Bearer <secret>`` on an API call, if any."""
    if not is_api_request():
        return None
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def request_token():
    """The live API token of the request's tenant named by ``Authorization: Bearer``, if any (looked
    up once a request, often together with the tenant)."""
    if "request_token" not in g:
        secret = bearer_secret()
        g.request_token = tokens.find_live_token(secret) if secret else None
    return g.request_token


def suspended_response(tenant):
    """403 with the operator's reason for the tenant's own staff and tokens; anyone else learns no
    reason, and a user of another tenant gets the 404 that every tenant they are not in answers."""
    from .problems import problem

    generic = _("This workspace is suspended.")
    if is_api_request():
        insider = request_token() is not None
        return problem(403, _("Tenant suspended"), (insider and tenant.suspended_reason) or generic)
    insider = session_member() is not None
    if current_user.is_authenticated and not insider:
        abort(404)
    reason = (insider and tenant.suspended_reason) or generic
    return render_template("suspended.html", tenant=tenant, reason=reason), 403


def grant(member: Membership) -> Membership:
    """Attach the member's effective permissions (built-in roles follow the registry)."""
    host = current_app.extensions["rapport.plugins"]
    role = member.role
    if role is None:
        member.granted = frozenset()
    elif role.builtin:
        member.granted = host.role_permissions(role.key)
    else:
        member.granted = frozenset(role.permissions) & frozenset(host.permissions)
    return member


def session_member() -> Membership | None:
    """The logged-in user's active membership in the request's tenant, if any."""
    if not current_user.is_authenticated or g.get("tenant") is None:
        return None
    member = db.session.scalar(
        select(Membership).where(Membership.user_id == current_user.id, Membership.status == "active")
    )
    return grant(member) if member else None


def require(permission: str | None = None):
    """View decorator for staff pages: a member of this tenant (else login or 404), with ``permission``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            member = session_member()
            if member is None:
                abort(404)  # not a member: this tenant does not exist for this user
            g.member = member
            g.actor = Actor("member", str(member.id), current_user.email, "web")
            if permission and not member.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
