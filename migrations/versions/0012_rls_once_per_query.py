"""Row-level security reads the tenant setting once per query, not once per row

The policy ``tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR ...`` calls
current_setting for every row it checks; written with scalar subqueries PostgreSQL evaluates each
setting once per query (an InitPlan). Same rows, same isolation; a count over 3,000 index entries
went from 1.33 ms to 0.53 ms. Every table with the ``tenant_isolation`` policy is moved over, plugin
tables included.

Revision ID: 0012_rls_once_per_query
Revises: 0011_email_lower_indexes
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from rapport.migrate import TENANT_POLICY

revision = '0012_rls_once_per_query'
down_revision = '0011_email_lower_indexes'
branch_labels = None
depends_on = None

PER_ROW_POLICY = (
    "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid "
    "OR current_setting('app.unscoped', true) = 'on'"
)


def _set_policies(condition: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tables = bind.execute(sa.text(
        "SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation' AND schemaname = current_schema()"
    )).scalars().all()
    for table in tables:
        op.execute(f'ALTER POLICY tenant_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition})')


def upgrade() -> None:
    _set_policies(TENANT_POLICY)


def downgrade() -> None:
    _set_policies(PER_ROW_POLICY)
