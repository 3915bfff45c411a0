"""users.session_nonce: log-out ends every copy of the session cookie.

Revision ID: 0003_session_nonce
Revises: 0002_list_indexes
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_session_nonce"
down_revision = "0002_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_nonce", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_nonce")
