"""Register checks and cross-visit checks (issue 12, items 9 and 11): the identity document an
elder's number belongs to (a resident ID card for every elder registered so far), and when each
visit was last cross-checked against the same caregiver's other visits (overlapping visits,
impossible travel), with a partial index over the visits still waiting for it.

Revision ID: 0013_checks
Revises: 0012_coverage
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_checks"
down_revision = "0012_coverage"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("elders", sa.Column("id_document_type", sa.String(length=32), nullable=False,
                                      server_default="resident_id"))
    op.add_column("visits", sa.Column("crosschecked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_visits_uncrosschecked", "visits", ["id"], postgresql_where=sa.text("crosschecked_at IS NULL"))
    op.create_index("ix_visits_user_started", "visits", ["user_id", "started_at"])


def downgrade():
    op.drop_index("ix_visits_user_started", table_name="visits")
    op.drop_index("ix_visits_uncrosschecked", table_name="visits")
    op.drop_column("visits", "crosschecked_at")
    op.drop_column("elders", "id_document_type")
