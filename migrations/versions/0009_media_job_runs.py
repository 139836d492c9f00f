"""Media (issue 15, item 5): images held by content hash and the tasks referencing them; their
reads join the audit trail's index of reads. Job runs (issue 16, item 2): one row per scheduled
job and period, so that several schedulers run each job once per period.

Revision ID: 0009_media_job_runs
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op


revision = "0009_media_job_runs"
down_revision = "0008"
branch_labels = None
depends_on = None

# backend/audit/models.py READS_SQL before and after this revision.
READS_BEFORE = ("""(audit_trail.changes::jsonb @> '[{"action": "read_id_card"}]'"""
                """ OR audit_trail.changes::jsonb @> '[{"action": "export"}]')""")
READS_AFTER = ("""(audit_trail.changes::jsonb @> '[{"action": "read_id_card"}]'"""
               """ OR audit_trail.changes::jsonb @> '[{"action": "read_media"}]'"""
               """ OR audit_trail.changes::jsonb @> '[{"action": "export"}]')""")


def upgrade():
    op.create_table(
        "media",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_media_sha256_hex")),
        sa.CheckConstraint("content_type IN ('image/png', 'image/jpeg', 'image/webp')",
                           name=op.f("ck_media_content_type_known")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_media_uploaded_by_id_users"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_media")),
    )
    op.create_index(op.f("ix_media_uploaded_by_id"), "media", ["uploaded_by_id"], unique=False)
    op.create_table(
        "media_tasks",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["media.sha256"], name=op.f("fk_media_tasks_sha256_media"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_media_tasks_task_id_tasks"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["linked_by_id"], ["users.id"], name=op.f("fk_media_tasks_linked_by_id_users"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("sha256", "task_id", name=op.f("pk_media_tasks")),
    )
    op.create_index(op.f("ix_media_tasks_task_id"), "media_tasks", ["task_id"], unique=False)
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job", "period_start", name=op.f("pk_job_runs")),
    )
    op.drop_index("ix_audit_trail_reads", table_name="audit_trail", postgresql_where=sa.text(READS_BEFORE))
    op.create_index("ix_audit_trail_reads", "audit_trail", ["seq"], unique=False,
                    postgresql_where=sa.text(READS_AFTER))


def downgrade():
    op.drop_index("ix_audit_trail_reads", table_name="audit_trail", postgresql_where=sa.text(READS_AFTER))
    op.create_index("ix_audit_trail_reads", "audit_trail", ["seq"], unique=False,
                    postgresql_where=sa.text(READS_BEFORE))
    op.drop_table("job_runs")
    op.drop_index(op.f("ix_media_tasks_task_id"), table_name="media_tasks")
    op.drop_table("media_tasks")
    op.drop_index(op.f("ix_media_uploaded_by_id"), table_name="media")
    op.drop_table("media")
