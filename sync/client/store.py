"""The phone's local SQLite store: tasks, elders, the user's open follow-ups and notifications as
pulled, the outbox of recorded items, settings."""

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS elders (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS followups (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acked')),
    result TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
_TABLES = ("tasks", "elders", "followups", "notifications")


class Store:
    """Every write is its own transaction unless grouped with `transaction()`."""

    def __init__(self, path: str = ":memory:"):
        self.db = sqlite3.connect(path, isolation_level=None)  # autocommit; BEGIN/COMMIT by hand
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a page of a pull and its cursor land together, or neither does."""
        if self.db.in_transaction:  # joined by an outer transaction
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # settings: cursor, device_id, next_seq, access_token, refresh_token
    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def take_seq(self) -> int:
        """The next item sequence number of this device: 0, 1, 2, … never reused."""
        with self.transaction():
            seq = int(self.get("next_seq") or 0)
            self.put("next_seq", str(seq + 1))
        return seq

    # tasks, elders, follow-ups and notifications, as the server last sent them
    def upsert(self, table: str, rows: Iterable[dict]) -> None:
        assert table in _TABLES
        self.db.executemany(  # notifications carry no version: their read_at is all that changes
            f"INSERT OR REPLACE INTO {table} (id, version, body) VALUES (?, ?, ?)",
            [(row["id"], row.get("version", 0), json.dumps(row, ensure_ascii=False)) for row in rows],
        )

    def remove(self, table: str, ids: Iterable[int]) -> None:
        assert table in _TABLES
        self.db.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])

    def drop_older(self, table: str, field: str, before: datetime) -> None:
        """Drop every row whose ISO 8601 `field` is an instant before `before`."""
        assert table in _TABLES and field.isidentifier()
        self.db.execute(f"DELETE FROM {table} WHERE julianday(json_extract(body, '$.{field}')) < julianday(?)",
                        (before.isoformat(),))

    def keep_only(self, table: str, ids: Iterable[int]) -> None:
        """Drop every row whose id is not in `ids` (a pull's `followups.open_ids`)."""
        assert table in _TABLES
        self.db.execute(f"DELETE FROM {table} WHERE id NOT IN (SELECT value FROM json_each(?))",
                        (json.dumps(list(ids)),))

    def clear_synced(self) -> None:
        """Forget what was pulled before a snapshot; the outbox is the user's work and stays."""
        for table in _TABLES:
            self.db.execute(f"DELETE FROM {table}")

    def rows(self, table: str) -> list[dict]:
        assert table in _TABLES
        return [json.loads(body) for (body,) in self.db.execute(f"SELECT body FROM {table} ORDER BY id")]

    def task_versions(self) -> list[tuple[int, int]]:
        return list(self.db.execute("SELECT id, version FROM tasks"))

    # the outbox: items recorded on the phone, pending until the server answered for them
    def add_item(self, body: dict) -> None:
        self.db.execute("INSERT INTO outbox (id, seq, body) VALUES (?, ?, ?)",
                        (body["id"], body["seq"], json.dumps(body, ensure_ascii=False)))

    def pending(self, limit: int) -> list[dict]:
        rows = self.db.execute(
            "SELECT body FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT ?", (limit,))
        return [json.loads(body) for (body,) in rows]

    def ack(self, results: Iterable[dict]) -> None:
        with self.transaction():
            self.db.executemany(
                "UPDATE outbox SET status = 'acked', result = ? WHERE id = ?",
                [(json.dumps(result, ensure_ascii=False), result["id"]) for result in results],
            )

    def requeue(self, seqs: Iterable[int]) -> int:
        """Send again items the server says it never got; returns how many we still had."""
        cursor = self.db.executemany(
            "UPDATE outbox SET status = 'pending' WHERE seq = ? AND status = 'acked'", [(s,) for s in seqs])
        return cursor.rowcount

    def outbox(self) -> list[dict]:
        rows = self.db.execute("SELECT id, seq, status, result FROM outbox ORDER BY seq")
        return [{"id": id_, "seq": seq, "status": status, "result": json.loads(result) if result else None}
                for id_, seq, status, result in rows]
