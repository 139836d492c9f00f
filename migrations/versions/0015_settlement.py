"""Settlement (issue 13, items 1 and 2): prices per service type, funding rules per care plan, the
co-pay share table, and issued statements with their frozen lines and the provider's disputes.

Revision ID: 0015_settlement
Revises: 0014_provider
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_settlement"
down_revision = "0014_provider"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('copay_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('assessment_level', sa.SmallInteger(), nullable=True),
    sa.Column('government_percent', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('assessment_level IS NULL OR assessment_level BETWEEN 0 AND 4', name=op.f('ck_copay_shares_level_range')),
    sa.CheckConstraint('government_percent BETWEEN 0 AND 100', name=op.f('ck_copay_shares_percent_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_copay_shares'))
    )
    op.create_index('uq_copay_shares_category_level', 'copay_shares', [sa.literal_column("coalesce(category, '')"), sa.literal_column('coalesce(assessment_level, -1)')], unique=True)
    op.create_table('funding_rules',
    sa.Column('care_plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('monthly_cap_fen', sa.Integer(), nullable=True),
    sa.Column('monthly_cap_minutes', sa.Integer(), nullable=True),
    sa.Column('refused_rule', sa.String(length=32), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('government', 'copay', 'self_pay')", name=op.f('ck_funding_rules_kind_known')),
    sa.CheckConstraint('monthly_cap_fen IS NULL OR monthly_cap_fen >= 0', name=op.f('ck_funding_rules_cap_fen_not_negative')),
    sa.CheckConstraint('monthly_cap_minutes IS NULL OR monthly_cap_minutes >= 0', name=op.f('ck_funding_rules_cap_minutes_not_negative')),
    sa.ForeignKeyConstraint(['care_plan_id'], ['care_plans.id'], name=op.f('fk_funding_rules_care_plan_id_care_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_funding_rules_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('care_plan_id', name=op.f('pk_funding_rules'))
    )
    op.create_table('prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('rounding_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("unit IN ('visit', 'hour', 'month')", name=op.f('ck_prices_unit_known')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= effective_on', name=op.f('ck_prices_ends_after_start')),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_prices_price_not_negative')),
    sa.CheckConstraint('rounding_minutes BETWEEN 1 AND 60', name=op.f('ck_prices_rounding_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_prices_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_prices_provider_id_providers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_type'], ['service_types.code'], name=op.f('fk_prices_service_type_service_types'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prices'))
    )
    op.create_index(op.f('ix_prices_service_type'), 'prices', ['service_type'], unique=False)
    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('seq', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('government_fen', sa.BigInteger(), nullable=False),
    sa.Column('copay_fen', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name=op.f('ck_statements_month_format')),
    sa.CheckConstraint("status IN ('issued', 'confirmed', 'disputed', 'locked', 'superseded')", name=op.f('ck_statements_status_known')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_statements_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_statements_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_statements_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_statements_provider_id_providers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['statements.id'], name=op.f('fk_statements_superseded_by_id_statements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('provider_id', 'month', 'seq', name=op.f('uq_statements_provider_id_month_seq'))
    )
    op.create_index('uq_statements_in_force', 'statements', ['provider_id', 'month'], unique=True, postgresql_where=sa.text("status <> 'superseded'"))
    op.create_table('statement_lines',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('elder_id', sa.Integer(), nullable=False),
    sa.Column('care_plan_id', sa.Integer(), nullable=True),
    sa.Column('service_type', sa.String(length=32), nullable=False),
    sa.Column('served_on', sa.Date(), nullable=False),
    sa.Column('funding', sa.String(length=16), nullable=False),
    sa.Column('price_id', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=8), nullable=True),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('government_fen', sa.BigInteger(), nullable=False),
    sa.Column('copay_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('adjusts_line_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("state IN ('payable', 'held', 'rejected', 'adjustment')", name=op.f('ck_statement_lines_state_known')),
    sa.CheckConstraint('amount_fen = government_fen + copay_fen', name=op.f('ck_statement_lines_shares_add_up')),
    sa.ForeignKeyConstraint(['adjusts_line_id'], ['statement_lines.id'], name=op.f('fk_statement_lines_adjusts_line_id_statement_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_lines_statement_id_statements'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_statement_lines_task_id_tasks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
    sa.UniqueConstraint('statement_id', 'line_no', name=op.f('uq_statement_lines_statement_id_line_no'))
    )
    op.create_index('ix_statement_lines_task_id', 'statement_lines', ['task_id'], unique=False)
    op.create_table('statement_disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_statement_disputes_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['line_id'], ['statement_lines.id'], name=op.f('fk_statement_disputes_line_id_statement_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_disputes_statement_id_statements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_disputes')),
    sa.UniqueConstraint('statement_id', 'line_id', name=op.f('uq_statement_disputes_statement_id_line_id'))
    )


def downgrade():
    op.drop_table('statement_disputes')
    op.drop_index('ix_statement_lines_task_id', table_name='statement_lines')
    op.drop_table('statement_lines')
    op.drop_index('uq_statements_in_force', table_name='statements', postgresql_where=sa.text("status <> 'superseded'"))
    op.drop_table('statements')
    op.drop_index(op.f('ix_prices_service_type'), table_name='prices')
    op.drop_table('prices')
    op.drop_table('funding_rules')
    op.drop_index('uq_copay_shares_category_level', table_name='copay_shares')
    op.drop_table('copay_shares')
