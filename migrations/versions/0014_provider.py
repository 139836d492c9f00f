"""The provider's own account and accountability (issue 13, items 3 and 4): rectification orders
(限期整改) with their history, and providers' answers to requests for an explanation.

The `provider_manager` role needs no schema change (users.provider_id names their provider). A
provider whose manager is still a supervisor account keeps it: the bureau moves each provider to
a manager of its own (a provider_manager account) through PATCH /providers/{id}.

Revision ID: 0014_provider
Revises: 0013_checks
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_provider"
down_revision = "0013_checks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("extensions", sa.SmallInteger(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_by_id", sa.Integer(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'responded', 'accepted', 'escalated')",
                           name=op.f("ck_rectifications_status_known")),
        sa.CheckConstraint("source IN ('monthly_list', 'ad_hoc')", name=op.f("ck_rectifications_source_known")),
        sa.CheckConstraint("source <> 'monthly_list' OR month IS NOT NULL",
                           name=op.f("ck_rectifications_listed_has_month")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_rectifications_provider_id_providers"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], name=op.f("fk_rectifications_issued_by_id_users"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["responded_by_id"], ["users.id"],
                                name=op.f("fk_rectifications_responded_by_id_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
    )
    op.create_index(op.f("ix_rectifications_provider_id"), "rectifications", ["provider_id"], unique=False)
    op.create_table(
        "rectification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rectification_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.CheckConstraint("action IN ('issued', 'responded', 'accepted', 'extended', 'escalated')",
                           name=op.f("ck_rectification_events_action_known")),
        sa.ForeignKeyConstraint(["rectification_id"], ["rectifications.id"],
                                name=op.f("fk_rectification_events_rectification_id_rectifications"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_rectification_events_by_id_users"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_events")),
    )
    op.create_index(op.f("ix_rectification_events_rectification_id"), "rectification_events", ["rectification_id"],
                    unique=False)
    op.create_table(
        "review_explanations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("explained_by_id", sa.Integer(), nullable=False),
        sa.Column("explained_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_review_explanations_review_id_reviews"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["explained_by_id"], ["users.id"],
                                name=op.f("fk_review_explanations_explained_by_id_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_explanations")),
        sa.UniqueConstraint("review_id", name=op.f("uq_review_explanations_review_id")),
    )


def downgrade():
    op.drop_table("review_explanations")
    op.drop_index(op.f("ix_rectification_events_rectification_id"), table_name="rectification_events")
    op.drop_table("rectification_events")
    op.drop_index(op.f("ix_rectifications_provider_id"), table_name="rectifications")
    op.drop_table("rectifications")
