"""The log tables partitioned by month (issue 16, item 1): followup_events by `at`, notifications by
`created_at`, audit_trail by `at`, each with months covering its rows, the months ahead and a
default partition (backend/partitions.py). A partitioned table's unique keys must hold its
partition column, so the primary keys become (id, at), (id, created_at) and (seq, at), and the
notifications' dedupe key moves to notification_keys, unique across all months.

Each table is converted with its rows: renamed, a partitioned table made in its place, the rows
copied, its id sequence handed over, the old one dropped, then its keys and indexes built on the
filled partitions. Foreign keys out of the table are recreated as they stood.

Revision ID: 0017_partition_logs
Revises: 0016_partition_tasks
"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from backend.clock import local_today
from backend.partitions import add_months, ensure_default, ensure_months, first_of

revision = "0017_partition_logs"
down_revision = "0016_partition_tasks"
branch_labels = None
depends_on = None

# backend/audit/models.py READS_SQL.
READS = ("""(audit_trail.changes::jsonb @> '[{"action": "read_id_card"}]'"""
         """ OR audit_trail.changes::jsonb @> '[{"action": "read_media"}]'"""
         """ OR audit_trail.changes::jsonb @> '[{"action": "export"}]')""")


def _foreign_keys(table: str) -> list[tuple[str, str]]:
    return op.get_bind().execute(sa.text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(:table) AND contype = 'f' ORDER BY conname"), {"table": table}).all()


def _hand_over_sequence(old: str, table: str, column: str) -> None:
    """The id sequence owned by `old` (dropped next, with what it owns) goes to `table`."""
    sequence = op.get_bind().execute(sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                                     {"table": old, "column": column}).scalar()
    if sequence:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.{column}")


def _to_partitioned(table: str, column: str, key: list[str]) -> None:
    """Rows, sequence and foreign keys of `table` into a table of the same name partitioned by
    month of `column`, with primary key `key`; its other indexes are the caller's to build."""
    bind = op.get_bind()
    old = f"{table}_unpartitioned"
    foreign_keys = _foreign_keys(table)
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
               f"PARTITION BY RANGE ({column})")
    oldest = bind.execute(sa.text(f"SELECT min({column}) FROM {old}")).scalar()
    this_month = first_of(local_today())
    first = min(this_month, first_of(local_today(oldest))) if oldest else this_month
    ensure_months(bind, table, first, add_months(this_month, current_app.config["PARTITION_MONTHS_AHEAD"]))
    ensure_default(bind, table)
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    _hand_over_sequence(old, table, key[0])
    op.execute(f"DROP TABLE {old}")
    op.create_primary_key(f"pk_{table}", table, key)
    for name, definition in foreign_keys:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _to_plain(table: str, key: list[str]) -> None:
    """The way back: the rows of every partition (the archived ones stay where they were moved)
    into one plain table of the same name."""
    bind = op.get_bind()
    old = f"{table}_partitioned"
    foreign_keys = _foreign_keys(table)
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    _hand_over_sequence(old, table, key[0])
    op.execute(f"DROP TABLE {old}")
    op.create_primary_key(f"pk_{table}", table, key)
    for name, definition in foreign_keys:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def upgrade():
    _to_partitioned("followup_events", "at", ["id", "at"])
    op.create_index("ix_followup_events_followup_id", "followup_events", ["followup_id"])

    op.create_table("notification_keys",
                    sa.Column("dedupe_key", sa.String(length=160), nullable=False),
                    sa.PrimaryKeyConstraint("dedupe_key", name=op.f("pk_notification_keys")))
    op.execute("INSERT INTO notification_keys (dedupe_key) SELECT dedupe_key FROM notifications")
    _to_partitioned("notifications", "created_at", ["id", "created_at"])
    _notification_indexes()

    _to_partitioned("audit_trail", "at", ["seq", "at"])
    _audit_indexes()


def _notification_indexes() -> None:
    op.create_index("ix_notifications_change_seq", "notifications", ["change_seq"])
    op.create_index("ix_notifications_followup_id", "notifications", ["followup_id"])
    op.create_index("ix_notifications_undelivered", "notifications", ["id"],
                    postgresql_where=sa.text("delivered_at IS NULL"))
    op.create_index("ix_notifications_user_change_seq", "notifications", ["user_id", "change_seq"])
    op.create_index("ix_notifications_user_id", "notifications", ["user_id"])


def _audit_indexes() -> None:
    op.create_index("ix_audit_trail_user_id", "audit_trail", ["user_id"])
    op.create_index("ix_audit_trail_reads", "audit_trail", ["seq"], postgresql_where=sa.text(READS))


def downgrade():
    _to_plain("audit_trail", ["seq"])
    _audit_indexes()

    _to_plain("notifications", ["id"])
    _notification_indexes()
    op.create_unique_constraint("uq_notifications_dedupe_key", "notifications", ["dedupe_key"])
    op.drop_table("notification_keys")

    _to_plain("followup_events", ["id"])
    op.create_index("ix_followup_events_followup_id", "followup_events", ["followup_id"])
