"""Login throttle rows remember their last failure: an account's count is forgotten after a quiet
spell, not at the end of a fixed window.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # The rows are short-lived counters under the old keys ("user:", "ip:"), which nothing reads
    # any more: forgetting them forgives at most one window's failures.
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False))


def downgrade():
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_column("last_failure_at")
