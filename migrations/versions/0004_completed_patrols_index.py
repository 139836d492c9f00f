"""An index of completed patrols by window start, for the monthly report's patrol coverage.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PREDICATE = "kind = 'patrol' AND status = 'completed'"


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_completed_patrols", ["window_start_at"], unique=False,
                              postgresql_include=["elder_id"], postgresql_where=sa.text(PREDICATE))


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_completed_patrols", postgresql_include=["elder_id"],
                            postgresql_where=sa.text(PREDICATE))
