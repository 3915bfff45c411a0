"""List indexes: the contact name index matches the list's keyset order; trigram search on PostgreSQL.

Search (``?q=``) matches anywhere in names, emails and phones (``LIKE '%x%'``), which no B-tree can
serve. On PostgreSQL, GIN trigram indexes led by ``tenant_id`` (btree_gin) serve it; SQLite scans the
tenant's rows.

Revision ID: 0002_list_indexes
Revises: 0001_core
Create Date: 2026-11-24
"""
from alembic import op

revision = "0002_list_indexes"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# Names start with ix_search_: tests/test_migrations.py knows these are PostgreSQL-only.
SEARCH = {
    "accounts": ("name", "email", "phone", "website"),
    "contacts": ("first_name", "last_name", "email", "phone"),
    "leads": ("name", "company", "email", "phone"),
    "activities": ("subject",),
}


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_name")
        batch.create_index("ix_contacts_name", ["tenant_id", "last_name", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for table, columns in SEARCH.items():
        for column in columns:
            op.execute(
                f"CREATE INDEX ix_search_{table}_{column} ON {table} "
                f"USING gin (tenant_id, lower({column}) gin_trgm_ops)"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in SEARCH.items():
            for column in columns:
                op.execute(f"DROP INDEX IF EXISTS ix_search_{table}_{column}")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_name")
        batch.create_index("ix_contacts_name", ["tenant_id", "last_name", "first_name", "id"])
