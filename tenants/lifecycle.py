"""Operator actions on whole tenants. Each acts on one tenant; none reads another tenant's data."""
from __future__ import annotations

from sqlalchemy import delete, select

from rapport import tenancy
from rapport.db import db
from rapport.models import Tenant


def suspend(tenant: Tenant, reason: str | None = None) -> None:
    tenant.status = "suspended"
    tenant.suspended_reason = reason


def resume(tenant: Tenant) -> None:
    tenant.status = "active"
    tenant.suspended_reason = None


def delete_tenant(tenant: Tenant) -> None:
    """Delete the tenant and, by ``ON DELETE CASCADE`` on every tenant table, all its rows."""
    with tenancy.unscoped():
        db.session.execute(delete(Tenant).where(Tenant.id == tenant.id))


def all_tenants() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))
