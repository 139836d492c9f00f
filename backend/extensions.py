"""Flask extensions and the SQLAlchemy metadata they share."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, any_, bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

# A naming convention keeps constraint names stable across databases and migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
babel = Babel()
# Checked explicitly by the console on its POSTs; the API authenticates with bearer tokens instead.
csrf = CSRFProtect()


def on_postgres(connection=None) -> bool:
    """Whether the session's database, or `connection`'s, is PostgreSQL (otherwise SQLite, the
    embedded default). Code on other threads than the request's passes its connection."""
    return (connection or db.session.get_bind()).dialect.name == "postgresql"


def insert_for_dialect(table):
    """An INSERT for the session's database, which has on_conflict_do_nothing()."""
    return (postgresql.insert if on_postgres() else sqlite.insert)(table)


def among(column, values):
    """`column IN values`; on PostgreSQL `column = ANY(%s)` with one array parameter, since psycopg
    re-parses every query of more than 50 parameters (a 100-id IN list costs ~2 ms a query), and
    the planner then sees how many ids follow."""
    values = sorted(set(values))
    if on_postgres():
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def driver_execute(sql: str, params: dict | None = None, session=None):
    """Plain SQL in psycopg's placeholders, run in the session's transaction straight through the
    driver (PostgreSQL only); returns the psycopg cursor, whose rows are tuples built in C.

    For the sync push's dozen statements a batch: SQLAlchemy's per-statement work and per-row
    result processing (UTC datetime columns above all) cost more CPU than the statements
    themselves, ~1.3 ms against ~0.5 ms for reading and locking a batch's 100 tasks. The statement
    is prepared on its first use on a connection. timestamptz values come back aware, in the
    session's time zone, which compares and subtracts as UTC does. No SQLAlchemy event sees the
    statement (the audit trail's writers describe themselves). `session`: another than db.session
    (a commit hook's).
    """
    cursor = (session or db.session).connection().connection.driver_connection.cursor()
    cursor.execute(sql, params, prepare=True)
    return cursor


def inline_ids(ids):
    """Ids written into the SQL as literals (`IN (1, 2, …)`): the planner sees real values, and
    no statement carries hundreds of parameters for psycopg to re-parse with a regular
    expression on every call (a page of an export names 2,000 ids)."""
    return bindparam(None, sorted(int(i) for i in ids), expanding=True, literal_execute=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL for concurrent readers, foreign keys enforced, wait instead of failing on locks.

    pysqlite's own transaction handling is switched off (it never BEGINs before a SAVEPOINT, so
    a savepoint's RELEASE would commit); _sqlite_begin below starts every transaction instead.
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """SQLite: take the write lock when a transaction starts (waiting up to busy_timeout).

    A deferred transaction that reads and then writes fails at once with SQLITE_BUSY if another
    writer committed in between; IMMEDIATE waits its turn instead. Readers are not blocked (WAL).
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
