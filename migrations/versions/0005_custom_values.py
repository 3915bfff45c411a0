"""Typed side table of filterable custom values (custom_values), for filters and sorts at scale

Revision ID: 0005_custom_values
Revises: 0004_custom_fields
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
from rapport.migrate import tenant_rls

revision = '0005_custom_values'
down_revision = '0004_custom_fields'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('custom_values',
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('field_key', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('value_num', sa.Float(), nullable=True),
    sa.Column('value_text', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id')
    )
    with op.batch_alter_table('custom_values', schema=None) as batch_op:
        batch_op.create_index('ix_custom_values_num', ['tenant_id', 'record_type', 'field_key', 'value_num', 'record_id'], unique=False)
        batch_op.create_index('ix_custom_values_text', ['tenant_id', 'record_type', 'field_key', 'value_text', 'record_id'], unique=False)
        batch_op.create_index('ix_custom_values_record', ['tenant_id', 'record_id'], unique=False)
    tenant_rls(op, "custom_values")


def downgrade() -> None:
    op.drop_table('custom_values')
