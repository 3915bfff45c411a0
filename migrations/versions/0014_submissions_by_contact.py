"""Index lead-capture submissions by contact

A contact's page lists the form submissions attached to it (plugins/lead_capture/panels.py); without
an index on ``(tenant_id, contact_id)`` that read every submission of the tenant. The lead's page
already had its index.

Revision ID: 0014_submissions_by_contact
Revises: 0013_app_role_no_jit
Create Date: 2026-12-02
"""
from alembic import op

revision = '0014_submissions_by_contact'
down_revision = '0013_app_role_no_jit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lead_capture_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_lead_capture_submissions_contact', ['tenant_id', 'contact_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lead_capture_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_capture_submissions_contact')
