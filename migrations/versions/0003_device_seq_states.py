"""Each device's delivered sequence numbers as runs, so a push reports gaps without its history.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # Filled lazily: a device's first push after this migration folds its history in once.
    op.create_table(
        "device_seq_states",
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_seq_states")),
    )


def downgrade():
    op.drop_table("device_seq_states")
