"""The push's written-out SQL and its row types name exactly the columns the tables have: a
migration that adds a column fails here instead of the push silently dropping its values."""

import dataclasses
import re

from sqlalchemy import text

from backend.extensions import db
from backend.visits import push_sql
from backend.visits.evidence import ItemRow, TaskRow, VisitRow
from backend.visits.store import HeldItem, PlateRow


def _columns(table: str) -> list[str]:
    """The table's columns as the migrated database has them."""
    names = db.session.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = :table ORDER BY ordinal_position"), {"table": table}).scalars().all()
    assert names, f"no table {table}"
    return names


def _split(listed: str) -> list[str]:
    """A comma-separated list split at its top level (not inside parentheses)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(listed):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(listed[start:i].strip())
            start = i + 1
    parts.append(listed[start:].strip())
    return parts


def _group(sql: str, after: str) -> str:
    """The text inside the parentheses that open first after `after`."""
    start = sql.index("(", sql.index(after) + len(after))
    depth = 0
    for i in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            return sql[start + 1:i]
    raise AssertionError(f"unbalanced parentheses after {after!r}")


def _select_list(sql: str) -> list[str]:
    """The expressions of the first SELECT, up to its FROM (not a subquery's)."""
    start = sql.index("SELECT") + len("SELECT")
    depth = 0
    for match in re.finditer(r"[()]|\bFROM\b", sql[start:]):
        token = match.group()
        depth += {"(": 1, ")": -1}.get(token, 0)
        if token == "FROM" and depth == 0:
            return _split(sql[start:start + match.start()])
    raise AssertionError("no FROM")


def _name(expression: str) -> str:
    """`t.status` → status, `r.payload::json` → payload."""
    return expression.split("::")[0].split(".")[-1]


def _inserted(sql: str, table: str) -> list[str]:
    return _split(_group(sql, f"INSERT INTO {table}"))


def test_each_insert_names_every_column_but_a_generated_id():
    for sql, table, generated in [
        (push_sql.INSERT_ITEMS, "visit_items", []),
        (push_sql.INSERT_VISITS, "visits", ["id"]),
        (push_sql.INSERT_TASK_EVENTS, "task_events", ["id"]),
        (push_sql.INSERT_QUARANTINE, "quarantined_items", ["id"]),
        (push_sql.INSERT_DEVICE_RUNS, "device_seq_states", []),
        (push_sql.INSERT_RECEIPT, "push_receipts", ["id"]),
    ]:
        listed = _inserted(sql, table)
        assert len(listed) == len(set(listed)), table
        assert set(listed) == set(_columns(table)) - set(generated), table


def test_inserts_from_select_read_the_columns_they_write_in_order():
    for sql, table, constants in [
        (push_sql.INSERT_ITEMS, "visit_items", {}),
        (push_sql.INSERT_VISITS, "visits", {"created_at": "%(at)s", "updated_at": "%(at)s"}),
        (push_sql.INSERT_TASK_EVENTS, "task_events", {}),
        (push_sql.INSERT_QUARANTINE, "quarantined_items", {}),
    ]:
        selected = _select_list(sql[sql.index(f"INSERT INTO {table}"):])  # past INSERT_ITEMS' CTEs
        assert [constants.get(name, name) for name in _inserted(sql, table)] == \
            [expression if expression in constants.values() else _name(expression) for expression in selected]


def test_the_json_records_define_every_column_but_the_payload_which_comes_beside_them():
    for sql, table in [(push_sql.INSERT_ITEMS, "visit_items"), (push_sql.INSERT_QUARANTINE, "quarantined_items")]:
        defined = [column.split()[0] for column in _split(_group(sql, "json_to_recordset(%(rows)s::json) AS"))]
        zipped = _split(_group(sql, ") AS r"))
        assert defined + ["payload"] == zipped == _inserted(sql, table)


def test_a_visit_update_writes_every_column_but_its_key_task_user_and_creation():
    assigned = [part.split("=")[0].strip() for part in _split(
        re.search(r"UPDATE visits SET(.*?)\bFROM\b", push_sql.UPDATE_VISITS, re.S).group(1))]
    assert len(assigned) == len(set(assigned))
    assert set(assigned) == set(_columns("visits")) - {"id", "window_start_at", "task_id", "user_id", "created_at"}


def test_the_row_dataclasses_match_their_tables():
    assert {f.name for f in dataclasses.fields(ItemRow)} == set(_columns("visit_items"))
    assert {f.name for f in dataclasses.fields(VisitRow)} == set(_columns("visits")) - {"created_at", "updated_at"}
    task_fields = [f.name for f in dataclasses.fields(TaskRow)]
    read = task_fields[:task_fields.index("elder_lat")]
    assert set(read) <= set(_columns("tasks"))
    assert {"lat", "lon"} <= set(_columns("elders"))
    assert set(HeldItem._fields) <= set(_columns("visit_items"))
    assert set(PlateRow._fields) <= set(_columns("door_plates"))


def test_the_reads_select_their_rows_fields_in_order():
    """Rows are built by position (the fastest way): TaskRow(*row), VisitRow(*row[:n]), …"""
    task_fields = [f.name for f in dataclasses.fields(TaskRow)]
    selected = _select_list(push_sql.LOCK_TASKS)
    assert [_name(e) for e in selected[:-3]] == task_fields[:task_fields.index("elder_lat")]
    assert selected[-3:-1] == ["e.lat", "e.lon"] and task_fields[len(selected) - 3:len(selected)] == \
        ["elder_lat", "elder_lon", "reassigned_away"]
    assert selected[-1].startswith("EXISTS")
    assert [_name(e) for e in _select_list(push_sql.HELD_ITEMS)] == list(HeldItem._fields)
    assert [_name(e) for e in _select_list(push_sql.PLATES_OF)] == list(PlateRow._fields)
    visit_fields = [f.name for f in dataclasses.fields(VisitRow)]
    selected = _select_list(push_sql.VISITS)
    assert [e for e in selected if e.startswith("v.")] == [f"v.{name}" for name in visit_fields]
    assert selected == [f"v.{name}" for name in visit_fields] + [f"i.{name}" for name in HeldItem._fields] \
        + [f"o.{name}" for name in HeldItem._fields]
