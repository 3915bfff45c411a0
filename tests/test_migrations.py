"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rapport.db import Base


def _not_search_index(name, type_, _parent_names) -> bool:
    """Trigram search indexes exist on PostgreSQL only (migration 0002), outside the models."""
    return not (type_ == "index" and name and name.startswith("ix_search_"))


def test_migrated_database_matches_models(database):
    engine = create_engine(database["owner_url"])
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _not_search_index})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_tenant_table_leads_with_tenant_id(database):
    engine = create_engine(database["owner_url"])
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        if "tenant_id" not in table.c:
            continue
        assert [c.name for c in table.primary_key.columns][0] == "tenant_id", table.name
        for index in inspector.get_indexes(table.name):
            if index["name"] == "ix_memberships_user":
                continue
            if index["name"].startswith("ix_search_"):
                assert index.get("column_names", [None])[0] == "tenant_id", index
                continue  # log-in lists a user's tenants: deliberately global, and not unique
            assert index["column_names"][0] == "tenant_id", (table.name, index["name"])
        for unique in inspector.get_unique_constraints(table.name):
            assert unique["column_names"][0] == "tenant_id", (table.name, unique)
        for fk in inspector.get_foreign_keys(table.name):
            if fk["referred_table"] in ("tenants", "users"):
                continue
            assert fk["constrained_columns"][0] == "tenant_id", (table.name, fk)
    engine.dispose()
