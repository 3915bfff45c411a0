"""The ORM half of isolation: every select, join, alias, relationship load and bulk statement on
tenant data is scoped to the active tenant, no tenant means an error, and flushes never write
another tenant's rows."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from rapport import tenancy
from rapport.db import db
from rapport.models import Account, Activity, Contact, Lead, Membership, Tenant
from rapport.tenancy import NoTenantError


def contact_ids() -> set:
    return set(db.session.scalars(select(Contact.id)))


# Statements that reach tenant data in every way SQL allows, some only through a global table.
REACHING_TENANT_DATA = {
    "entity": lambda: select(Contact),
    "column": lambda: select(Contact.email),
    "count from": lambda: select(func.count()).select_from(Contact),
    "join from a global table": lambda: select(Tenant.slug).join(Membership, Membership.tenant_id == Tenant.id),
    "IN subquery": lambda: select(Tenant.slug).where(Tenant.id.in_(select(Membership.tenant_id))),
    "EXISTS": lambda: select(Tenant.slug).where(select(Contact.id).where(Contact.tenant_id == Tenant.id).exists()),
    "scalar subquery": lambda: select(select(func.count(Contact.id)).scalar_subquery()),
    "CTE": lambda: select(select(Contact.id).cte().c.id),
    "union": lambda: select(Contact.email).union(select(Lead.email)),
    "Core table": lambda: select(Contact.__table__.c.email),
    "bulk update": lambda: update(Contact).values(title="x"),
    "bulk delete": lambda: delete(Activity),
}


@pytest.mark.parametrize("name", sorted(REACHING_TENANT_DATA))
def test_query_without_tenant_raises(alpha, bravo, name):
    with pytest.raises(NoTenantError):
        db.session.execute(REACHING_TENANT_DATA[name]())


def test_global_tables_need_no_tenant(alpha, bravo):
    assert {"alpha", "bravo"} <= set(db.session.scalars(select(Tenant.slug)))


def test_core_statement_on_tenant_table_is_refused_inside_a_tenant(alpha, bravo):
    # The loader criteria cannot scope a Core statement: refuse it rather than show every tenant.
    with tenancy.tenant_scope(alpha.tenant.id), pytest.raises(NoTenantError):
        db.session.execute(update(Contact.__table__).values(title="x"))


def test_select_sees_only_the_active_tenant(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        assert contact_ids() == {alpha.contact.id}
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
        assert set(db.session.scalars(select(Contact.email))) == {"contact@alpha.test"}
    with tenancy.tenant_scope(bravo.tenant.id):
        assert contact_ids() == {bravo.contact.id}


def _plain(row) -> tuple:
    """A row as comparable values (an ORM object as its key)."""
    return tuple((v.tenant_id, v.id) if hasattr(v, "tenant_id") else v for v in row)


@pytest.mark.parametrize("name", ["entity", "join from a global table", "EXISTS", "bulk update"])
def test_a_statement_run_again_is_scoped_to_each_tenant_in_turn(alpha, bravo, name):
    """Hot statements are built once and run many times: the scoped copy kept for one statement object
    carries no tenant, so the same object run for A, then B, then A answers what a new one would."""
    def run(statement):
        result = db.session.execute(statement)
        return result.rowcount if name == "bulk update" else sorted(map(_plain, result.all()))

    statement = REACHING_TENANT_DATA[name]()
    answers = []
    for tenant in (alpha, bravo, alpha):
        with tenancy.tenant_scope(tenant.tenant.id):
            answers.append(run(statement))
            assert answers[-1] == run(REACHING_TENANT_DATA[name]())
    assert answers[0] == answers[2]
    if name != "bulk update":
        assert answers[0] != answers[1]
    with tenancy.tenant_scope(alpha.tenant.id):
        from rapport.db import _scoped

        kept = _scoped(statement)
        assert kept is _scoped(statement) and kept is not statement  # kept, not made again
        # The kept copy carries the tenant criteria itself: on PostgreSQL row-level security would
        # hide their absence from the answers above.
        assert ":rapport_scope_tenant_id" in str(kept) and ":rapport_scope_tenant_id" not in str(statement)


def test_joins_are_scoped_on_both_sides(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        # Unscoped, this join would pair A's contact with B's account.
        across = select(Contact.id, Account.id).join(Account, Account.tenant_id != Contact.tenant_id)
        assert db.session.execute(across).all() == []
        pairs = db.session.execute(select(Contact.id, Account.id).join(Account, Contact.account)).all()
        assert pairs == [(alpha.contact.id, alpha.account.id)]


def test_aliases_are_scoped(alpha, bravo):
    other = aliased(Contact)
    with tenancy.tenant_scope(alpha.tenant.id):
        assert set(db.session.scalars(select(other.id))) == {alpha.contact.id}
        across = select(Contact.id, other.id).join(other, other.tenant_id != Contact.tenant_id)
        assert db.session.execute(across).all() == []


def test_relationship_loads_are_scoped(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        for option in (joinedload(Contact.account), selectinload(Contact.account)):
            db.session.expunge_all()
            (contact,) = db.session.scalars(select(Contact).options(option)).unique().all()
            assert contact.account.id == alpha.account.id
    db.session.expunge_all()
    with tenancy.unscoped():
        foreign_contact = db.session.get(Contact, (bravo.tenant.id, bravo.contact.id))
    with tenancy.tenant_scope(alpha.tenant.id):
        # A lazy load issued while A is active cannot fetch B's account, even for B's contact.
        assert foreign_contact.account is None


def test_get_by_primary_key_of_other_tenant_finds_nothing(alpha, bravo):
    key = (bravo.tenant.id, bravo.contact.id)
    with tenancy.unscoped():
        held = db.session.get(Contact, key)  # held, so it stays in the (weak) identity map
    assert held is not None
    with tenancy.tenant_scope(alpha.tenant.id):
        assert db.session.get(Contact, key) is None
        assert db.session.get(Contact, (alpha.tenant.id, bravo.contact.id)) is None
    with pytest.raises(NoTenantError):
        db.session.get(Contact, key)


def test_bulk_update_and_delete_touch_only_the_active_tenant(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        assert db.session.execute(update(Contact).values(title="Changed")).rowcount == 1
        assert db.session.execute(delete(Activity)).rowcount == 1
    db.session.expunge_all()
    with tenancy.unscoped():
        titles = dict(db.session.execute(select(Contact.tenant_id, Contact.title)).all())
        activities = set(db.session.scalars(select(Activity.tenant_id)))
    assert titles == {alpha.tenant.id: "Changed", bravo.tenant.id: None}
    assert activities == {bravo.tenant.id}


def test_flush_refuses_another_tenants_rows(alpha, bravo):
    b_tenant, b_contact = bravo.tenant.id, bravo.contact.id
    with tenancy.unscoped():
        foreign_contact = db.session.get(Contact, (b_tenant, b_contact))
    with tenancy.tenant_scope(alpha.tenant.id):
        foreign_contact.title = "Hijacked"
        with pytest.raises(NoTenantError):
            db.session.flush()
        db.session.rollback()
        db.session.add(Contact(tenant_id=b_tenant, last_name="Planted"))
        with pytest.raises(NoTenantError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(foreign_contact)
        with pytest.raises(NoTenantError):
            db.session.flush()
        db.session.rollback()
    db.session.expunge_all()
    with tenancy.unscoped():
        kept = db.session.get(Contact, (b_tenant, b_contact))
        assert kept is not None and kept.title is None
        assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.last_name == "Planted")) == 0


def test_new_rows_are_stamped_with_the_active_tenant(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        contact = Contact(last_name="Stamped")
        db.session.add(contact)
        db.session.flush()
    assert contact.tenant_id == alpha.tenant.id
    with pytest.raises(NoTenantError):
        db.session.add(Contact(last_name="Orphan"))
        db.session.flush()
    db.session.rollback()


def test_unscoped_sees_every_tenant(alpha, bravo):
    with tenancy.unscoped():
        assert contact_ids() == {alpha.contact.id, bravo.contact.id}
