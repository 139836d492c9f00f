"""Every commit takes the change feed's counter, stamps its synced rows, and only then locks the
audit chain's head and appends: in that order whichever module a process imported first."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from backend.extensions import db

ROOT = Path(__file__).resolve().parents[2]

# Imports the two modules in the order given, creates the app twice (as a test run does), then
# commits one change to a synced row and prints the hooks installed and the statements run.
_CHILD = """
import importlib, json, sys

for name in sys.argv[2:]:
    importlib.import_module(name)

import psycopg

from backend import create_app
from backend.elders.models import Elder
from backend.extensions import db

config = json.loads(sys.argv[1])
create_app(config)
app = create_app(config)
statements, execute = [], psycopg.Cursor.execute


def spy(cursor, query, *args, **kwargs):
    statements.append(str(query))
    return execute(cursor, query, *args, **kwargs)


with app.app_context():
    session = db.session()
    hooks = {name: [fn.__module__ + "." + fn.__qualname__ for fn in getattr(session.dispatch, name)]
             for name in ("before_flush", "after_flush", "do_orm_execute", "before_commit", "after_soft_rollback")}
    elder = db.session.get(Elder, config["ELDER_ID"])
    elder.phone = "13800000000"
    psycopg.Cursor.execute = spy
    db.session.commit()
    psycopg.Cursor.execute = execute
print(json.dumps({"hooks": hooks, "statements": statements}))
"""


def _spy_statements(monkeypatch) -> list[str]:
    statements, execute = [], psycopg.Cursor.execute

    def spy(cursor, query, *args, **kwargs):
        statements.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    return statements


def _assert_commit_order(statements: list[str]) -> None:
    """The counter taken, the synced rows stamped with it, then the chain's head locked and the
    entry appended as the very last statement."""
    def first(*words):
        return next(i for i, s in enumerate(statements) if all(w in s for w in words))

    counter = first("sync_clock")
    stamped = first("UPDATE elders", "change_seq")
    head = first("audit_head", "FOR UPDATE")
    assert counter < stamped < head, statements
    assert "INSERT INTO audit_trail" in statements[-1], statements


def test_a_commit_stamps_the_change_feed_before_it_locks_the_audit_head(city, monkeypatch):
    city.elder_a1.phone = "13900000000"
    statements = _spy_statements(monkeypatch)
    db.session.commit()
    _assert_commit_order(statements)


@pytest.mark.parametrize("first, second", [("backend.audit.trail", "backend.changefeed"),
                                           ("backend.changefeed", "backend.audit.trail")])
def test_the_hook_order_does_not_depend_on_which_module_was_imported_first(app, database_url, city, first, second,
                                                                            tmp_path):
    url, engine_options = database_url
    config = {key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET")}
    config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=engine_options,
                  INSTANCE_PATH=str(tmp_path), ELDER_ID=city.elder_a1.id)
    db.session.rollback()  # nothing of this test's transaction stands in the child's way
    child = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(config), first, second], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    found = json.loads(child.stdout.strip().splitlines()[-1])
    assert found["hooks"] == {
        "before_flush": ["backend.audit.trail.collect_updates_and_deletes"],
        "after_flush": ["backend.changefeed.collect", "backend.audit.trail.collect_inserts"],
        "do_orm_execute": ["backend.audit.trail.collect_bulk"],
        "before_commit": ["backend.commit_hooks._before_commit"],
        "after_soft_rollback": ["backend.commit_hooks._after_soft_rollback"],
    }
    _assert_commit_order(found["statements"])
