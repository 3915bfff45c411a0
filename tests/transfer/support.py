"""Helpers for the CSV import and export tests: upload a file, read rows back, make records."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from rapport import crm, tenancy
from rapport.db import db
from rapport.models import AuditEvent, Role
from rapport.pipeline import Actor

SETUP = Actor("system", None, "test setup", "test")


def upload(client, record_type: str, content, good_rows_only: bool = False, slug: str = "acme"):
    raw = content.encode("utf-8") if isinstance(content, str) else content
    data = {"record_type": record_type, "file": (io.BytesIO(raw), "records.csv")}
    if good_rows_only:
        data["good_rows_only"] = "1"
    return client.post(f"/t/{slug}/import", data=data, content_type="multipart/form-data")


def records(tenant, model, order_by=None):
    with tenancy.tenant_scope(tenant.id):
        stmt = select(model).order_by(order_by if order_by is not None else model.id)
        return db.session.scalars(stmt).all()


def audit_channels(tenant) -> set[str]:
    with tenancy.tenant_scope(tenant.id):
        return set(db.session.scalars(select(AuditEvent.channel)))


def make(tenant, record_type: str, **data):
    with tenancy.tenant_scope(tenant.id):
        record = crm.create(record_type, data, SETUP)
        db.session.commit()
        return record


def custom_role(tenant, key: str, permissions: list[str]) -> None:
    with tenancy.tenant_scope(tenant.id):
        db.session.add(Role(key=key, name=key.title(), permissions=permissions, builtin=False))
        db.session.commit()


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
