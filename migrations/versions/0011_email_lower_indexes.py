"""Leads and contacts indexed by lower(email): lead capture finds the record a submission duplicates by
email whatever its case, which the plain (tenant_id, email) index could not serve (a scan of the
tenant's records for every submission).

Revision ID: 0011_email_lower_indexes
Revises: 0006_custom_value_indexes
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_email_lower_indexes'
down_revision = '0006_custom_value_indexes'
branch_labels = None
depends_on = None

TABLES = ('contacts', 'leads')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_email')
        op.create_index(f'ix_{table}_email', table, ['tenant_id', sa.text('lower(email)')], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_email', table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_email', ['tenant_id', 'email'], unique=False)
