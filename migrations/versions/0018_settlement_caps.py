"""Settlement caps (issue 13): an issued statement stores each plan's usage against its monthly
cap, per month of service, frozen with its lines and covered by its hash. Statements issued
before have none, and their hashes stand as they were.

Revision ID: 0018_settlement_caps
Revises: 0017_partition_logs
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_settlement_caps"
down_revision = "0017_partition_logs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statement_cap_usage',
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('care_plan_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('elder_id', sa.Integer(), nullable=False),
    sa.Column('cap_fen', sa.Integer(), nullable=True),
    sa.Column('cap_minutes', sa.Integer(), nullable=True),
    sa.Column('government_fen', sa.BigInteger(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_cap_usage_statement_id_statements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('statement_id', 'care_plan_id', 'month', name=op.f('pk_statement_cap_usage'))
    )


def downgrade():
    op.drop_table('statement_cap_usage')
