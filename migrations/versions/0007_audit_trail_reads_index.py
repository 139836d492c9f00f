"""A partial index of the audit entries that record a read of personal data (an ID number shown
in full, an export): the console lists them newest first out of a trail of every write.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# backend/audit/models.py READS_SQL, as it stood when this was written.
PREDICATE = ("""(audit_trail.changes::jsonb @> '[{"action": "read_id_card"}]'"""
             """ OR audit_trail.changes::jsonb @> '[{"action": "export"}]')""")


def upgrade():
    op.create_index("ix_audit_trail_reads", "audit_trail", ["seq"], unique=False,
                    postgresql_where=sa.text(PREDICATE))


def downgrade():
    op.drop_index("ix_audit_trail_reads", table_name="audit_trail", postgresql_where=sa.text(PREDICATE))
