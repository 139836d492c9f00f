"""An index of revoked refresh-token families: every authenticated request asks whether its
access token's family was revoked (logout, reuse of a refresh token, signing a user out).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PREDICATE = "revoked_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_refresh_tokens_revoked_family_id", ["family_id"], unique=False,
                              postgresql_where=sa.text(PREDICATE))


def downgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_tokens_revoked_family_id", postgresql_where=sa.text(PREDICATE))
