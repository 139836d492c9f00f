"""The task family partitioned by month (issue 16, item 1): tasks, task_events, visits and
visit_items become RANGE partitions on the task's window_start_at, converted with their rows.

A unique key of a partitioned table must hold its partition key, and a foreign key can only point
at a unique key, so what other tables point at moves to narrow unpartitioned key tables:
task_keys and visit_keys (kept by triggers on every insert and delete), and visit_item_ids (the
push claims an item's id there in the same statement that stores the item: exactly-once stays one
global primary key). visits, task_events and visit_items get a copy of their task's
window_start_at, so a month's tasks join them partition by partition.

Revision ID: 0016_partition_tasks
Revises: 0015_settlement
"""
import re

from alembic import op
from flask import current_app

from backend.clock import care_tz, local_today
from backend.partitions import add_months, ensure_default, ensure_months

revision = "0016_partition_tasks"
down_revision = "0015_settlement"
branch_labels = None
depends_on = None

# table -> (what its rows are keyed by elsewhere, the key table that stands in, copies window_start_at)
FAMILY = {"tasks": "task_keys", "visits": "visit_keys", "visit_items": "visit_item_ids", "task_events": None}
COPIES_WINDOW = ("visits", "visit_items", "task_events")
# Unique keys other than the primary key: globally unique before, (…, window_start_at) after.
UNIQUES = {"tasks": ("uq_tasks_source_key", "source_key"), "visits": ("uq_visits_task_id", "task_id")}

KEY_TABLES = """
CREATE TABLE task_keys (id integer NOT NULL, window_start_at timestamptz NOT NULL,
                        CONSTRAINT pk_task_keys PRIMARY KEY (id));
CREATE TABLE visit_keys (id integer NOT NULL, window_start_at timestamptz NOT NULL,
                         CONSTRAINT pk_visit_keys PRIMARY KEY (id));
CREATE TABLE visit_item_ids (id varchar(36) NOT NULL, window_start_at timestamptz NOT NULL,
                             CONSTRAINT pk_visit_item_ids PRIMARY KEY (id));
INSERT INTO task_keys SELECT id, window_start_at FROM tasks;
INSERT INTO visit_keys SELECT v.id, k.window_start_at FROM visits v JOIN task_keys k ON k.id = v.task_id;
INSERT INTO visit_item_ids SELECT i.id, k.window_start_at FROM visit_items i JOIN task_keys k ON k.id = i.task_id;
"""

# Statement triggers with transition tables: generation's bulk insert of a day's tasks costs one
# INSERT … SELECT into the key table, not one trigger call per row. A task never changes its
# window (nothing in the code does, and visits, events and items hold copies of it), so an
# UPDATE of window_start_at is refused rather than followed.
TRIGGERS = """
CREATE FUNCTION task_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO task_keys (id, window_start_at) SELECT id, window_start_at FROM new_rows; RETURN NULL; END $$;
CREATE FUNCTION task_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM task_keys WHERE id IN (SELECT id FROM old_rows); RETURN NULL; END $$;
CREATE FUNCTION visit_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO visit_keys (id, window_start_at) SELECT id, window_start_at FROM new_rows; RETURN NULL; END $$;
CREATE FUNCTION visit_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM visit_keys WHERE id IN (SELECT id FROM old_rows); RETURN NULL; END $$;
CREATE FUNCTION window_start_at_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.window_start_at IS DISTINCT FROM OLD.window_start_at THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'window_start_at of ' || TG_TABLE_NAME || ' ' || OLD.id || ' is fixed once made';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tasks_keys_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_keys_insert();
CREATE TRIGGER tasks_keys_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_keys_delete();
CREATE TRIGGER visits_keys_insert AFTER INSERT ON visits REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_keys_insert();
CREATE TRIGGER visits_keys_delete AFTER DELETE ON visits REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_keys_delete();
CREATE TRIGGER tasks_window_fixed BEFORE UPDATE OF window_start_at ON tasks
    FOR EACH ROW EXECUTE FUNCTION window_start_at_is_fixed();
"""

DROP_TRIGGERS = """
DROP TRIGGER tasks_keys_insert ON tasks; DROP TRIGGER tasks_keys_delete ON tasks;
DROP TRIGGER visits_keys_insert ON visits; DROP TRIGGER visits_keys_delete ON visits;
DROP TRIGGER tasks_window_fixed ON tasks;
DROP FUNCTION task_keys_insert(); DROP FUNCTION task_keys_delete(); DROP FUNCTION visit_keys_insert();
DROP FUNCTION visit_keys_delete(); DROP FUNCTION window_start_at_is_fixed();
"""


def _rows(sql, **params):
    return op.get_bind().exec_driver_sql(sql, params).all()


def _foreign_keys_into(tables) -> list[tuple[str, str, str, str]]:
    """(table, constraint, column, ON DELETE rule) of every one-column foreign key into `tables`."""
    return [tuple(row) for row in _rows(
        "SELECT c.conrelid::regclass::text, c.conname, a.attname, c.confdeltype::text, c.confrelid::regclass::text "
        "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.conparentid = 0 AND c.confrelid::regclass::text = ANY(%(tables)s) "
        "ORDER BY 1, 2", tables=list(tables))]


_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def _own_definitions(table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's plain indexes (CREATE statements, any schema prefix dropped) and its foreign-key
    and check constraints (name, definition): what the rebuilt table gets back."""
    indexes = [re.sub(r" ON (ONLY )?(\S+\.)?\"?" + table + r"\"? ", f" ON {table} ", row[0]) for row in _rows(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %(t)s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
        t=table)]
    constraints = [tuple(row) for row in _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %(t)s::regclass AND contype IN ('f', 'c') ORDER BY conname", t=table)]
    return indexes, constraints


def _months_to_cover(table: str):
    """From the month of the oldest row (this month on an empty table) to the months kept ahead."""
    oldest = _rows(f"SELECT min(window_start_at) FROM {table}")[0][0]
    this_month = local_today().replace(day=1)
    first = oldest.astimezone(care_tz()).date().replace(day=1) if oldest else this_month
    return min(first, this_month), add_months(this_month, current_app.config["PARTITION_MONTHS_AHEAD"])


def _rebuild(table: str, partitioned: bool) -> None:
    """Rename the table aside, create it again (partitioned or plain) with the same columns,
    defaults, indexes and constraints, move the rows, hand it the id sequence, drop the old one.
    Foreign keys into the table are dropped beforehand by the caller."""
    bind = op.get_bind()
    old = f"{table}_old"
    indexes, constraints = _own_definitions(table)
    bind.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {old}")
    for statement in indexes:
        bind.exec_driver_sql(f"DROP INDEX {statement.split()[2 if ' UNIQUE ' not in statement[:14] else 3]}")
    bind.exec_driver_sql(f"ALTER TABLE {old} DROP CONSTRAINT pk_{table}")
    if table in UNIQUES:
        bind.exec_driver_sql(f"ALTER TABLE {old} DROP CONSTRAINT {UNIQUES[table][0]}")
    copies = table in COPIES_WINDOW
    if partitioned:
        extra = ", window_start_at timestamptz NOT NULL" if copies else ""
        bind.exec_driver_sql(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS{extra}, "
                             f"CONSTRAINT pk_{table} PRIMARY KEY (id, window_start_at)) "
                             f"PARTITION BY RANGE (window_start_at)")
        if table in UNIQUES:
            name, column = UNIQUES[table]
            bind.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({column}, window_start_at)")
        if copies:
            bind.exec_driver_sql(f"ALTER TABLE {old} ADD COLUMN window_start_at timestamptz")
            bind.exec_driver_sql(f"UPDATE {old} o SET window_start_at = k.window_start_at "
                                 f"FROM task_keys k WHERE k.id = o.task_id")
        first, last = _months_to_cover(old)
        ensure_months(bind, table, first, last)
        ensure_default(bind, table)
    else:
        bind.exec_driver_sql(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS, "
                             f"CONSTRAINT pk_{table} PRIMARY KEY (id))")
        if copies:
            bind.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN window_start_at")
        if table in UNIQUES:
            name, column = UNIQUES[table]
            bind.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({column})")
    columns = ", ".join(row[0] for row in _rows(
        "SELECT attname FROM pg_attribute WHERE attrelid = %(t)s::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum", t=table))
    bind.exec_driver_sql(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")
    if table != "visit_items":
        bind.exec_driver_sql(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for statement in indexes:
        bind.exec_driver_sql(statement)
    for name, definition in constraints:
        bind.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    bind.exec_driver_sql(f"DROP TABLE {old}")


def upgrade():
    bind = op.get_bind()
    bind.exec_driver_sql(KEY_TABLES)
    incoming = _foreign_keys_into(FAMILY)
    for table, name, _column, _rule, _target in incoming:
        bind.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table in FAMILY:
        _rebuild(table, partitioned=True)
    for table, _name, column, rule, target in incoming:
        keys = FAMILY[target]
        bind.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{keys} FOREIGN KEY ({column}) "
                             f"REFERENCES {keys} (id) ON DELETE {_ON_DELETE[rule]}")
    # An item is stored only under an id claimed in visit_item_ids; taking the claim back takes the item.
    bind.exec_driver_sql("ALTER TABLE visit_items ADD CONSTRAINT fk_visit_items_id_visit_item_ids "
                         "FOREIGN KEY (id) REFERENCES visit_item_ids (id) ON DELETE CASCADE")
    bind.exec_driver_sql(TRIGGERS)


def downgrade():
    bind = op.get_bind()
    bind.exec_driver_sql(DROP_TRIGGERS)
    bind.exec_driver_sql("ALTER TABLE visit_items DROP CONSTRAINT fk_visit_items_id_visit_item_ids")
    targets = {keys: table for table, keys in FAMILY.items() if keys}
    incoming = _foreign_keys_into(targets)
    for table, name, _column, _rule, _target in incoming:
        bind.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table in FAMILY:
        _rebuild(table, partitioned=False)
    for table, _name, column, rule, keys in incoming:
        target = targets[keys]
        bind.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{target} FOREIGN KEY ({column}) "
                             f"REFERENCES {target} (id) ON DELETE {_ON_DELETE[rule]}")
    bind.exec_driver_sql("DROP TABLE task_keys, visit_keys, visit_item_ids")
