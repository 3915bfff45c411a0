"""CSV export of accounts, contacts and leads, streamed in batches.

Rows are read as plain column tuples in keyset batches ordered by id (time-ordered UUIDs, served by
the primary key), so 100,000 records never sit in memory or in the session. A member sees
what :func:`rapport.access.visible` lets them see; the operator (no member) sees everything.
Every cell that a spreadsheet would run as a formula is escaped (OWASP CSV injection).
"""
from __future__ import annotations

import codecs
import csv
import decimal
import io
import uuid
from typing import Iterator

from sqlalchemy import select

from .. import access
from ..db import db
from ..models import Account, Membership, User
from ..models.records import RECORD_MODELS
from ..fields import forms as custom_forms
from .columns import columns, custom_fields, escape_formula, field_of

BATCH_SIZE = 1000


def export_csv(record_type: str, member: Membership | None = None, bom: bool = True) -> Iterator[str]:
    """Yield the CSV text in chunks: the header, then one chunk per batch of records.

    The byte-order mark lets spreadsheet programs open UTF-8 (e.g. Chinese names) correctly; the
    import accepts files with or without it.
    """
    cols = columns(record_type)
    custom = custom_fields(record_type, member)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(cols) + [w.name for w in custom])
    yield (codecs.BOM_UTF8.decode() if bom else "") + _drain(buffer)
    owners = _owner_emails()
    for batch in _batches(RECORD_MODELS[record_type], cols, member, with_custom=bool(custom)):
        accounts = _account_names(batch) if "account" in cols else {}
        for row in batch:
            cells = [_cell(row, c, owners, accounts) for c in cols]
            cells += [custom_forms.to_cell(w, (row.custom or {}).get(w.spec.key)) for w in custom]
            writer.writerow([escape_formula(cell) for cell in cells])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _batches(model, cols: tuple[str, ...], member: Membership | None, with_custom: bool = False) -> Iterator[list]:
    """Plain rows (not ORM objects, so the session keeps none of them), keyset-paged by id."""
    wanted = ["id"] + [field_of(c) for c in cols] + (["custom"] if with_custom else [])
    stmt = select(*(getattr(model, name) for name in wanted)).order_by(model.id).limit(BATCH_SIZE)
    if member is not None:
        stmt = access.visible(stmt, model, member)
    last_id = None
    while True:
        page = stmt if last_id is None else stmt.where(model.id > last_id)
        rows = db.session.execute(page).all()
        if rows:
            yield rows
        if len(rows) < BATCH_SIZE:
            return
        last_id = rows[-1].id


def _owner_emails() -> dict[uuid.UUID, str]:
    """Every member of the tenant, once: owners are written as emails, which the import reads back."""
    rows = db.session.execute(select(Membership.id, User.email).join(User, User.id == Membership.user_id))
    return dict(rows.all())


def _account_names(batch: list) -> dict[uuid.UUID, str]:
    ids = {row.account_id for row in batch if row.account_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Account.id, Account.name).where(Account.id.in_(ids))).all())


def _cell(row, column: str, owners: dict, accounts: dict) -> str:
    if column == "owner":
        value = owners.get(row.owner_id)
    elif column == "account":
        value = accounts.get(row.account_id)
    else:
        value = getattr(row, column)
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)
