"""The current tenant of this request or job, and the explicit escape hatch for operator work.

The tenant lives in a ContextVar (as django-scopes does): the ORM reads it to scope every query,
PostgreSQL receives it as ``app.tenant_id`` for row-level security, and a query on tenant data with no
tenant active raises :class:`NoTenantError` instead of returning every tenant's rows.
"""
from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar

_current_tenant_id: ContextVar[uuid.UUID | None] = ContextVar("rapport_tenant_id", default=None)
_unscoped: ContextVar[bool] = ContextVar("rapport_unscoped", default=False)


class NoTenantError(RuntimeError):
    """Tenant data was touched with no tenant active and outside :func:`unscoped`."""


def current_tenant_id() -> uuid.UUID | None:
    return _current_tenant_id.get()


def is_unscoped() -> bool:
    return _unscoped.get()


def activate(tenant_id: uuid.UUID | None):
    """Make ``tenant_id`` the tenant of the current context; returns a token for :func:`deactivate`."""
    if tenant_id is not None and not isinstance(tenant_id, uuid.UUID):
        raise TypeError("tenant_id must be a uuid.UUID")
    return _current_tenant_id.set(tenant_id)


def deactivate(token) -> None:
    _current_tenant_id.reset(token)


@contextlib.contextmanager
def tenant_scope(tenant_id: uuid.UUID):
    """Run a block as ``tenant_id`` (CLI commands, tasks, tests)."""
    token = activate(tenant_id)
    try:
        yield
    finally:
        deactivate(token)


@contextlib.contextmanager
def unscoped():
    """Operator escape hatch: queries in this block see every tenant. Grep for it in reviews."""
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)
