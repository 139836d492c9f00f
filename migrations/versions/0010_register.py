"""A register that follows the people in it (issue 12, items 7 and 8): each elder's status
(active, suspended until a return date, deceased, moved_out) and the status reports a supervisor
confirms or rejects. Every existing elder is `active` in the register: an elder switched off by
hand (is_active false) keeps that switch.

Revision ID: 0010_register
Revises: 0009_media_job_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_register"
down_revision = "0009_media_job_runs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("elders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("returns_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    # The default filled the existing rows; from now on the application sets it.
    op.alter_column("elders", "status", server_default=None)

    op.create_table(
        "status_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("returns_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visit_item_id", sa.String(length=36), nullable=True),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followup_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("effects", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_status_reports_decided_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["elder_id"], ["elders.id"], name=op.f("fk_status_reports_elder_id_elders"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["followup_id"], ["followups.id"],
                                name=op.f("fk_status_reports_followup_id_followups"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["reported_by_id"], ["users.id"], name=op.f("fk_status_reports_reported_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["visit_item_id"], ["visit_items.id"],
                                name=op.f("fk_status_reports_visit_item_id_visit_items"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_reports")),
    )
    op.create_index(op.f("ix_status_reports_elder_id"), "status_reports", ["elder_id"], unique=False)
    op.create_index("uq_status_reports_pending_elder", "status_reports", ["elder_id"], unique=True,
                    postgresql_where=sa.text("state = 'pending'"))


def downgrade():
    op.drop_index("uq_status_reports_pending_elder", table_name="status_reports",
                  postgresql_where=sa.text("state = 'pending'"))
    op.drop_index(op.f("ix_status_reports_elder_id"), table_name="status_reports")
    op.drop_table("status_reports")
    with op.batch_alter_table("elders", schema=None) as batch_op:
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("returns_on")
        batch_op.drop_column("status")
