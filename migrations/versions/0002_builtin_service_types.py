"""The built-in "10+N" service types (the N are added by admins).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BUILTIN = [
    ("meal", "助餐", "Meals", 20),
    ("bathing", "助浴", "Bathing", 30),
    ("cleaning", "助洁", "Cleaning", 45),
    ("medical", "助医", "Medical aid", 20),
    ("emergency", "助急", "Emergency aid", 10),
    ("mobility", "助行", "Mobility", 30),
    ("shopping", "助购", "Shopping", 30),
    ("companionship", "助聊", "Companionship", 30),
    ("recreation", "助乐", "Recreation", 30),
    ("learning", "助学", "Learning", 30),
]


def upgrade():
    table = sa.table(
        "service_types",
        sa.column("code", sa.String), sa.column("name_zh", sa.String), sa.column("name_en", sa.String),
        sa.column("is_builtin", sa.Boolean), sa.column("is_active", sa.Boolean),
        sa.column("default_min_minutes", sa.SmallInteger), sa.column("late_start_minutes", sa.SmallInteger),
        sa.column("missed_grace_minutes", sa.SmallInteger),
    )
    op.bulk_insert(table, [
        {"code": code, "name_zh": zh, "name_en": en, "is_builtin": True, "is_active": True,
         "default_min_minutes": minutes, "late_start_minutes": 30, "missed_grace_minutes": 120}
        for code, zh, en, minutes in BUILTIN
    ])


def downgrade():
    op.execute(sa.text("DELETE FROM service_types WHERE is_builtin"))
