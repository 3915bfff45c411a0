"""PostgreSQL row-level security: raw SQL, which the ORM cannot scope, still sees one tenant only,
because the app connects as a plain role that neither owns the tables nor bypasses RLS."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rapport import tenancy
from rapport.db import db, new_id
from rapport.migrate import APP_ROLE

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(database):
    if database["dialect"] != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only (set RAPPORT_TEST_DATABASE_URL)")


def sql(statement: str, **params):
    return db.session.execute(text(statement), params)


def tenant_tables() -> list[str]:
    """Every table with a ``tenant_id`` column, core and plugins alike, read from the catalogue."""
    return list(
        sql(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attname = 'tenant_id' "
            "ORDER BY c.relname"
        ).scalars()
    )


def test_app_connects_as_plain_role(alpha):
    role = sql("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").one()
    assert role == (APP_ROLE, False, False)
    owned = sql("SELECT tablename FROM pg_tables WHERE tableowner = current_user").scalars().all()
    assert owned == []


def test_every_tenant_table_has_forced_row_level_security(alpha):
    tables = tenant_tables()
    assert {"accounts", "contacts", "leads", "activities", "memberships", "audit_events"} <= set(tables)
    flags = dict(
        sql(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(:names) AND relnamespace = current_schema()::regnamespace",
            names=tables,
        ).all()
    )
    policies = set(sql("SELECT tablename FROM pg_policies WHERE tablename = ANY(:names)", names=tables).scalars())
    assert [t for t in tables if not flags.get(t)] == []
    assert set(tables) - policies == set()


def test_raw_sql_in_tenant_a_sees_none_of_b(alpha, bravo):
    a, b = alpha.tenant.id, bravo.tenant.id
    tables = tenant_tables()
    with tenancy.tenant_scope(a):
        seen = {t: set(sql(f"SELECT DISTINCT tenant_id FROM {t}").scalars()) for t in tables}
        contacts = sql("SELECT * FROM contacts").mappings().all()
    assert {t: s for t, s in seen.items() if s - {a}} == {}
    assert [row["email"] for row in contacts] == ["contact@alpha.test"]
    with tenancy.tenant_scope(b):  # B's rows are there: A just cannot see them
        assert sql("SELECT email FROM contacts").scalars().all() == ["contact@bravo.test"]


@pytest.mark.parametrize("table", ["accounts", "contacts", "leads", "activities", "memberships", "roles",
                                   "api_tokens", "audit_events", "lead_stage_changes"])
def test_raw_sql_in_tenant_a_returns_only_a_rows_per_table(alpha, bravo, table):
    with tenancy.tenant_scope(alpha.tenant.id):
        ids = set(sql(f"SELECT id FROM {table}").scalars())
        owners = set(sql(f"SELECT tenant_id FROM {table}").scalars())
    assert ids and owners == {alpha.tenant.id}
    with tenancy.tenant_scope(bravo.tenant.id):
        assert ids.isdisjoint(sql(f"SELECT id FROM {table}").scalars())


def test_no_tenant_means_no_rows_not_an_error(alpha, bravo):
    assert tenancy.current_tenant_id() is None
    counts = {t: sql(f"SELECT count(*) FROM {t}").scalar() for t in tenant_tables()}
    assert counts == {t: 0 for t in counts}


def test_insert_of_other_tenants_row_is_refused(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        with pytest.raises(DBAPIError, match="row-level security"), db.session.begin_nested():
            sql(
                "INSERT INTO accounts (tenant_id, id, name, custom, created_at, updated_at) "
                "VALUES (:tenant, :id, 'Planted', '{}', now(), now())",
                tenant=bravo.tenant.id, id=new_id(),
            )


def test_update_and_delete_cannot_reach_other_tenant(alpha, bravo):
    b_account = bravo.account.id
    with tenancy.tenant_scope(alpha.tenant.id):
        assert sql("UPDATE accounts SET name = 'Hijacked' WHERE id = :id", id=b_account).rowcount == 0
        assert sql("DELETE FROM contacts WHERE tenant_id = :t", t=bravo.tenant.id).rowcount == 0
        # Moving A's own row into B is refused too (the policy checks the new row).
        with pytest.raises(DBAPIError, match="row-level security"), db.session.begin_nested():
            sql("UPDATE accounts SET tenant_id = :t", t=bravo.tenant.id)
    with tenancy.tenant_scope(bravo.tenant.id):
        assert sql("SELECT name FROM accounts").scalars().all() == ["Bravo Account"]
        assert sql("SELECT count(*) FROM contacts").scalar() == 1


def test_setting_follows_tenant_switches_and_rolled_back_savepoints(alpha, bravo):
    """The tenant handed to PostgreSQL follows the context even when a savepoint that changed it
    rolls back (a rolled-back savepoint undoes its ``SET LOCAL``)."""
    with tenancy.tenant_scope(alpha.tenant.id):
        assert sql("SELECT email FROM contacts").scalars().all() == ["contact@alpha.test"]
        nested = db.session.begin_nested()
        with tenancy.tenant_scope(bravo.tenant.id):
            assert sql("SELECT email FROM contacts").scalars().all() == ["contact@bravo.test"]
            nested.rollback()
            assert sql("SELECT email FROM contacts").scalars().all() == ["contact@bravo.test"]
        assert sql("SELECT email FROM contacts").scalars().all() == ["contact@alpha.test"]


def test_every_policy_reads_the_tenant_once_per_query(alpha):
    """The settings sit in scalar subqueries (evaluated once per query, not per row): migration 0012."""
    tables = tenant_tables()
    policies = dict(sql("SELECT tablename, qual || ' / ' || with_check FROM pg_policies "
                        "WHERE policyname = 'tenant_isolation' AND tablename = ANY(:names)", names=tables).all())
    per_row = {t: p for t, p in policies.items() if p.count("SELECT") < 4}  # two settings, in qual and check
    assert set(policies) == set(tables) and per_row == {}
    plan = "\n".join(sql("EXPLAIN SELECT count(*) FROM contacts").scalars())
    assert "InitPlan" in plan, plan
