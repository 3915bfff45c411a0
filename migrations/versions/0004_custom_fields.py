"""Custom-field definitions, and the tenants' schema version (the compiled-schema cache key)

Revision ID: 0004_custom_fields
Revises: 0003_session_nonce
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from rapport.migrate import tenant_rls, grant_app_role  # noqa: F401

revision = '0004_custom_fields'
down_revision = '0003_session_nonce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('field_definitions',
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('help_text', sa.String(length=1000), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('default', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('show_in', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('pii', sa.Boolean(), nullable=False),
    sa.Column('filterable', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id'),
    sa.UniqueConstraint('tenant_id', 'record_type', 'key')
    )
    with op.batch_alter_table('field_definitions', schema=None) as batch_op:
        batch_op.create_index('ix_field_definitions_order', ['tenant_id', 'record_type', 'status', 'position'], unique=False)

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields_version', sa.Integer(), server_default='0', nullable=False))
    tenant_rls(op, "field_definitions")



def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('fields_version')

    with op.batch_alter_table('field_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_field_definitions_order')

    op.drop_table('field_definitions')
