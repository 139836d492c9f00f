"""A supervisor's override of an elder's risk tier (issue 12, item 4): the reason, who set it and
when. Existing elders keep their tier with no override recorded. And the index patrol coverage
reads (item 2): the visits of patrols that saw the elder.

Revision ID: 0012_coverage
Revises: 0011_city_level
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_coverage"
down_revision = "0011_city_level"
branch_labels = None
depends_on = None

SEEN = "patrol_outcome IN ('seen_well', 'seen_needs_help')"


def upgrade():
    op.add_column("elders", sa.Column("risk_tier_reason", sa.Text(), nullable=True))
    op.add_column("elders", sa.Column("risk_tier_set_by_id", sa.Integer(), nullable=True))
    op.add_column("elders", sa.Column("risk_tier_set_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(op.f("fk_elders_risk_tier_set_by_id_users"), "elders", "users", ["risk_tier_set_by_id"],
                          ["id"], ondelete="SET NULL")
    op.create_index("ix_visits_seen_patrols", "visits", ["task_id"], postgresql_where=sa.text(SEEN))


def downgrade():
    op.drop_index("ix_visits_seen_patrols", table_name="visits", postgresql_where=sa.text(SEEN))
    op.drop_constraint(op.f("fk_elders_risk_tier_set_by_id_users"), "elders", type_="foreignkey")
    op.drop_column("elders", "risk_tier_set_at")
    op.drop_column("elders", "risk_tier_set_by_id")
    op.drop_column("elders", "risk_tier_reason")
