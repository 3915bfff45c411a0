"""The database itself refuses a row of tenant A that references a row of tenant B: every foreign key
between tenant tables is composite ``(tenant_id, x_id)``. The ORM guard is bypassed (``unscoped()``
and Core statements) so that only the database stands in the way."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from rapport import tenancy
from rapport.db import db, new_id
from rapport.models import Account, Activity, ApiToken, Contact, Lead, Membership, User

# (table, column, which object the column points at, the other columns the row needs)
REFERENCES = [
    (Contact, "account_id", "account", {"last_name": "Ref"}),
    (Contact, "owner_id", "member", {"last_name": "Ref"}),
    (Account, "owner_id", "member", {"name": "Ref"}),
    (Lead, "contact_id", "contact", {"name": "Ref"}),
    (Lead, "account_id", "account", {"name": "Ref"}),
    (Activity, "lead_id", "lead", {"kind": "note", "subject": "Ref"}),
    (Activity, "contact_id", "contact", {"kind": "note", "subject": "Ref"}),
    (Membership, "role_id", "role", {}),
    (ApiToken, "membership_id", "member", {"name": "Ref", "token_hash": "0" * 64, "prefix": "rpt_x"}),
]


def _insert(model, tenant_id, column, target_id, extra):
    values = {"tenant_id": tenant_id, "id": new_id(), column: target_id, **extra}
    if model is Membership:
        user = User(email=f"{values['id']}@ref.test", name="")
        db.session.add(user)
        db.session.flush()
        values["user_id"] = user.id
    with db.session.begin_nested():
        db.session.execute(insert(model.__table__).values(**values))


@pytest.mark.parametrize(
    "model,column,target,extra", REFERENCES, ids=[f"{m.__tablename__}.{c}" for m, c, _, _ in REFERENCES]
)
def test_reference_to_another_tenant_is_refused(alpha, bravo, model, column, target, extra):
    a_tenant, own_id, foreign_id = alpha.tenant.id, getattr(alpha, target).id, getattr(bravo, target).id
    with tenancy.unscoped():
        _insert(model, a_tenant, column, own_id, extra)  # the same row with A's own reference is fine
        with pytest.raises(IntegrityError):
            _insert(model, a_tenant, column, foreign_id, extra)


def test_update_to_another_tenants_row_is_refused(alpha, bravo):
    contact, foreign_account = alpha.contact.id, bravo.account.id
    with tenancy.unscoped(), pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            update(Contact.__table__).where(Contact.__table__.c.id == contact).values(account_id=foreign_account)
        )
