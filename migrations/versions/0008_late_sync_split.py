"""`late_sync` split in two (issue 17, item 11): the server only ever set it on evidence for a task
already marked missed, so stored ones become `after_missed`; `late_upload` (received more than 24 h
after capture) is new and set from now on. Visits keep their flags sorted; items keep their order.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _rename(table: str, old: str, new: str | None, sort: bool) -> None:
    """Every `old` in table.flags (a JSON list) becomes `new`, or goes when `new` is None."""
    value = "f" if new is None else f"CASE WHEN f = '{old}' THEN '{new}' ELSE f END"
    keep = f"WHERE f <> '{old}'" if new is None else ""
    order = value if sort else "n"
    op.execute(f"""
        UPDATE {table} SET flags = COALESCE(
            (SELECT json_agg({value} ORDER BY {order})
               FROM json_array_elements_text({table}.flags) WITH ORDINALITY AS t(f, n) {keep}),
            '[]'::json)
        WHERE {table}.flags::jsonb ? '{old}'
    """)


def upgrade():
    _rename("visit_items", "late_sync", "after_missed", sort=False)
    _rename("visits", "late_sync", "after_missed", sort=True)


def downgrade():
    for table, sort in (("visit_items", False), ("visits", True)):
        _rename(table, "late_upload", None, sort)
        _rename(table, "after_missed", "late_sync", sort)
