"""No JIT compilation for the app role

PostgreSQL compiles a query to machine code when its estimated cost passes ``jit_above_cost``. With
row-level security the planner overestimates the rows of a tenant's list queries, so a connection's
first executions of a filtered or sorted list (before its prepared statement settles on a generic
plan) spent 10-18 ms compiling queries that then ran in 1-3 ms. The app answers short queries;
JIT pays off only for long analytical ones, which are not the app role's work.

Revision ID: 0013_app_role_no_jit
Revises: 0012_rls_once_per_query
Create Date: 2026-12-02
"""
from alembic import op

from rapport.migrate import app_role_setting

revision = '0013_app_role_no_jit'
down_revision = '0012_rls_once_per_query'
branch_labels = None
depends_on = None


def upgrade() -> None:
    app_role_setting(op, "SET jit = off")


def downgrade() -> None:
    app_role_setting(op, "RESET jit")
