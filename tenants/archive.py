"""Export one tenant to a self-contained archive, and restore it into any Rapport database.

The archive is gzip-compressed JSON: the tenant row, the users who are its members, and every row of
every tenant-owned table -- found from the metadata (any table with a ``tenant_id`` column), so plugin
tables are included without a list to keep up to date. Rapport stores no per-tenant files outside the
database today; the archive's ``files`` map is where they would go.

Restoring needs the same schema revision (this code's migrations, applied with ``rapport db upgrade``), with no tenant of that id or slug.
Users are matched by email: one who already exists in the target keeps their account (and password),
and the tenant's memberships point at it. Ids are kept, so links, API tokens and audit history survive.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import uuid

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, LargeBinary, Numeric, Table, Uuid, insert, select
from sqlalchemy.orm import Session

from rapport import tenancy
from rapport.db import Base, utcnow
from rapport.migrate import code_heads
from rapport.models import Tenant, User

FORMAT = "rapport-tenant-archive"
VERSION = 1
BATCH = 1000


class ArchiveError(ValueError):
    """The archive cannot be restored here (wrong format, other schema, tenant exists)."""


def tenant_tables() -> list[Table]:
    """Every tenant-owned table, parents before children (the order a restore inserts them)."""
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]


def _user_columns(table: Table) -> list[str]:
    return [c.name for c in table.c if any(fk.column.table.name == "users" for fk in c.foreign_keys)]


# -- values to JSON and back, by column type ------------------------------------------------------
def _dump(column, value):
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Uuid):
        return str(value)
    if isinstance(kind, (DateTime, Date)):
        return value.isoformat()
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return str(value)
    if isinstance(kind, LargeBinary):
        return base64.b64encode(value).decode()
    return value


def _load(column, value):
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Uuid):
        return uuid.UUID(value)
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return decimal.Decimal(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, (JSON, Boolean, Integer, Float)):
        return value
    return value


def _row(table: Table, row) -> dict:
    return {c.name: _dump(c, row._mapping[c.name]) for c in table.c}


# -- export ----------------------------------------------------------------------------------------
def export_tenant(session: Session, tenant_id: uuid.UUID) -> dict:
    """Everything of one tenant, as plain JSON values. Reads only that tenant's rows."""
    tenants = Tenant.__table__
    users = User.__table__
    with tenancy.unscoped():  # operator work: every read below names the tenant explicitly
        tenant = session.execute(select(tenants).where(tenants.c.id == tenant_id)).one_or_none()
        if tenant is None:
            raise LookupError(f"no tenant {tenant_id}")
        tables = {}
        user_ids = set()
        for table in tenant_tables():
            order = [c for c in table.primary_key.columns]
            rows = session.execute(select(table).where(table.c.tenant_id == tenant_id).order_by(*order))
            tables[table.name] = [_row(table, r) for r in rows]
            for name in _user_columns(table):
                user_ids.update(r[name] for r in tables[table.name] if r[name])
        member_users = session.execute(
            select(users).where(users.c.id.in_([uuid.UUID(u) for u in user_ids])).order_by(users.c.id)
        ) if user_ids else []
        archive = {
            "format": FORMAT,
            "version": VERSION,
            "schema": code_heads(),
            "exported_at": utcnow().isoformat(),
            "tenant": _row(tenants, tenant),
            "users": [_row(users, u) for u in member_users],
            "tables": tables,
            "files": {},
        }
        session.rollback()
    return archive


def write_archive(archive: dict, path) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(archive, fh, ensure_ascii=False, sort_keys=True)


def read_archive(path) -> dict:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            archive = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"not a Rapport tenant archive: {exc}") from None
    if not isinstance(archive, dict) or archive.get("format") != FORMAT or archive.get("version") != VERSION:
        raise ArchiveError("not a Rapport tenant archive (format or version differs)")
    return archive


# -- restore ---------------------------------------------------------------------------------------
def restore_tenant(session: Session, archive: dict) -> uuid.UUID:
    """Insert the archived tenant into this database in one transaction; returns its id."""
    if archive.get("format") != FORMAT or archive.get("version") != VERSION:
        raise ArchiveError("not a Rapport tenant archive (format or version differs)")
    here = code_heads()
    if here != archive["schema"]:
        raise ArchiveError(f"the archive has schema {archive['schema']}, this installation {here}: "
                           "restore with the same version of Rapport, or migrate the archive's database first")
    tenants = Tenant.__table__
    tenant = {c.name: _load(c, archive["tenant"].get(c.name)) for c in tenants.c}
    known = {t.name: t for t in tenant_tables()}
    unknown = set(archive["tables"]) - set(known)
    if unknown:
        raise ArchiveError(f"the archive has tables this installation lacks: {sorted(unknown)}")
    with tenancy.unscoped():
        clash = session.execute(
            select(tenants.c.slug).where((tenants.c.id == tenant["id"]) | (tenants.c.slug == tenant["slug"]))
        ).first()
        if clash is not None:
            raise ArchiveError(f"a tenant with id {tenant['id']} or slug {tenant['slug']!r} already exists")
        session.execute(insert(tenants).values(**tenant))
        user_map = _restore_users(session, archive["users"])
    with tenancy.tenant_scope(tenant["id"]):
        for table in tenant_tables():
            rows = [{c.name: _load(c, raw.get(c.name)) for c in table.c} for raw in archive["tables"].get(table.name, [])]
            for name in _user_columns(table):
                for row in rows:
                    row[name] = user_map.get(row[name], row[name])
            for start in range(0, len(rows), BATCH):
                session.execute(insert(table), rows[start:start + BATCH])
        session.commit()
    return tenant["id"]


def _restore_users(session: Session, archived: list[dict]) -> dict:
    """Insert the archive's users that this database lacks; map archived ids to the ids used here."""
    users = User.__table__
    mapping = {}
    for raw in archived:
        row = {c.name: _load(c, raw.get(c.name)) for c in users.c}
        existing = session.execute(select(users.c.id).where(users.c.email == row["email"])).scalar()
        if existing is None:
            session.execute(insert(users).values(**row))
            existing = row["id"]
        mapping[row["id"]] = existing
    return mapping
