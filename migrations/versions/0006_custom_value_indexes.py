"""Custom-value filters at scale: a covering per-record index on custom_values, no parallel query for the app

A filter matching many records (10% of a 200,000-record tenant) is fastest when the list walks its own
order index and tests each record against custom_values until the page is full
(``rapport.fields.query.WALK_FROM``). Each test is then one index-only probe: the record's index
carries the field and its values, instead of reaching the table for each of the record's rows.

On PostgreSQL the app role stops using parallel workers: with row-level security the planner
underestimates tenant rows by 5-1000x, starts workers for queries that read fifty rows (several
milliseconds each, 25 ms for a custom-date sort under load), and two cores serve many requests anyway.

Revision ID: 0006_custom_value_indexes
Revises: 0010_lead_capture
Create Date: 2026-12-02
"""
from alembic import op

from rapport.migrate import app_role_setting

revision = '0006_custom_value_indexes'
down_revision = '0010_lead_capture'
branch_labels = None
depends_on = None

RECORD_INDEX = ['tenant_id', 'record_id', 'record_type', 'field_key', 'value_num', 'value_text']


def upgrade() -> None:
    with op.batch_alter_table('custom_values', schema=None) as batch_op:
        batch_op.drop_index('ix_custom_values_record')
        batch_op.create_index('ix_custom_values_record', RECORD_INDEX, unique=False)
    app_role_setting(op, "SET max_parallel_workers_per_gather = 0")


def downgrade() -> None:
    app_role_setting(op, "RESET max_parallel_workers_per_gather")
    with op.batch_alter_table('custom_values', schema=None) as batch_op:
        batch_op.drop_index('ix_custom_values_record')
        batch_op.create_index('ix_custom_values_record', ['tenant_id', 'record_id'], unique=False)
