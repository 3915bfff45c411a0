"""Lead-capture plugin tables: forms, submissions and member availability, with row-level security

Revision ID: 0010_lead_capture
Revises: 0005_custom_values
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from rapport.migrate import tenant_rls

revision = '0010_lead_capture'
down_revision = '0005_custom_values'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lead_capture_availability',
    sa.Column('away', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('working_hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'id'], ['memberships.tenant_id', 'memberships.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id')
    )
    op.create_table('lead_capture_forms',
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consent_version', sa.Integer(), nullable=False),
    sa.Column('thank_you_message', sa.Text(), nullable=False),
    sa.Column('redirect_url', sa.String(length=500), nullable=True),
    sa.Column('notify_emails', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('lead_source', sa.String(length=100), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('allowed_origins', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('assignment_mode', sa.String(length=20), nullable=False),
    sa.Column('assignees', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('rules', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('default_owner_id', sa.Uuid(), nullable=True),
    sa.Column('round_robin_position', sa.Integer(), nullable=False),
    sa.Column('follow_up_minutes', sa.Integer(), nullable=True),
    sa.Column('min_fill_seconds', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'default_owner_id'], ['memberships.tenant_id', 'memberships.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id'),
    sa.UniqueConstraint('tenant_id', 'slug', name='uq_lead_capture_forms_slug')
    )
    op.create_table('lead_capture_submissions',
    sa.Column('form_id', sa.Uuid(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('spam_reason', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('consent_version', sa.Integer(), nullable=True),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('utm', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('referrer', sa.String(length=1000), nullable=True),
    sa.Column('landing_page', sa.String(length=1000), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reassigned_count', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'form_id'], ['lead_capture_forms.tenant_id', 'lead_capture_forms.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id'),
    sa.UniqueConstraint('tenant_id', 'form_id', 'dedupe_key', name='uq_lead_capture_submissions_dedupe')
    )
    with op.batch_alter_table('lead_capture_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_lead_capture_submissions_lead', ['tenant_id', 'lead_id'], unique=False)
        batch_op.create_index('ix_lead_capture_submissions_status', ['tenant_id', 'status', 'received_at'], unique=False)
    for table in ("lead_capture_availability", "lead_capture_forms", "lead_capture_submissions"):
        tenant_rls(op, table)


def downgrade() -> None:
    with op.batch_alter_table('lead_capture_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_capture_submissions_status')
        batch_op.drop_index('ix_lead_capture_submissions_lead')

    op.drop_table('lead_capture_submissions')
    op.drop_table('lead_capture_forms')
    op.drop_table('lead_capture_availability')
