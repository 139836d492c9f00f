"""A city level above districts (issue 12, item 10): regions are city → district → street →
community, with 12-digit codes. The existing tree needs no rewrite: its districts stay roots (a
district without a city stays valid) and their paths are unchanged. What the database now holds
to: known levels, codes of 12 digits, a city at the top, streets and communities under a parent.

Revision ID: 0011_city_level
Revises: 0010_register
"""
from alembic import op

revision = "0011_city_level"
down_revision = "0010_register"
branch_labels = None
depends_on = None

CHECKS = (
    ("level_known", "level IN ('city', 'district', 'street', 'community')"),
    ("code_twelve_digits", "code ~ '^[0-9]{12}$'"),
    ("city_has_no_parent", "level <> 'city' OR parent_id IS NULL"),
    ("parent_unless_root", "level IN ('city', 'district') OR parent_id IS NOT NULL"),
)


def upgrade():
    for name, condition in CHECKS:
        op.create_check_constraint(op.f(f"ck_regions_{name}"), "regions", condition)


def downgrade():
    # Cities cannot live in the old tree: their districts become roots again, then the cities go.
    op.execute("""
        UPDATE regions AS r SET path = substr(r.path, length(c.path))
          FROM regions AS c
         WHERE c.level = 'city' AND r.path LIKE c.path || '%' AND r.id <> c.id
    """)
    op.execute("UPDATE regions SET parent_id = NULL WHERE level = 'district'")
    op.execute("UPDATE users SET region_id = NULL, is_active = false WHERE region_id IN "
               "(SELECT id FROM regions WHERE level = 'city')")
    op.execute("UPDATE providers SET region_id = NULL WHERE region_id IN (SELECT id FROM regions WHERE level = 'city')")
    op.execute("UPDATE followups SET region_id = NULL WHERE region_id IN (SELECT id FROM regions WHERE level = 'city')")
    op.execute("DELETE FROM regions WHERE level = 'city'")
    for name, _ in reversed(CHECKS):
        op.drop_constraint(op.f(f"ck_regions_{name}"), "regions", type_="check")
