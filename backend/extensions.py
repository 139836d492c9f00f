"""Flask extensions and the SQLAlchemy metadata they share."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, any_, bindparam
from sqlalchemy.dialects import postgresql

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


def among(column, values):
    """`column IN values` as `column = ANY(%s)` with one array parameter: psycopg re-parses every
    query of more than 50 parameters with a regular expression on each call, and the planner
    sees how many ids follow."""
    return column == any_(bindparam(None, sorted(set(values)), type_=postgresql.ARRAY(column.type)))


def driver_execute(sql: str, params: dict | None = None, session=None):
    """Plain SQL in psycopg's placeholders, run in the session's transaction straight through the
    driver; returns the psycopg cursor, whose rows are tuples built in C.

    For the sync push's dozen statements a batch: SQLAlchemy's per-statement work and per-row
    result processing (UTC datetime columns above all) cost more CPU than the statements
    themselves (bench/RESULTS.md has the measurements). The statement
    is prepared on its first use on a connection (unless CARE_DB_PREPARED=off left the connection
    without a prepare threshold: PgBouncer in transaction mode). timestamptz values come back aware, in the
    session's time zone, which compares and subtracts as UTC does. No SQLAlchemy event sees the
    statement (the audit trail's writers describe themselves). `session`: another than db.session
    (a commit hook's).
    """
    connection = (session or db.session).connection().connection.driver_connection
    cursor = connection.cursor()
    cursor.execute(sql, params, prepare=connection.prepare_threshold is not None)
    return cursor


def inline_ids(ids):
    """Ids written into the SQL as literals (`IN (1, 2, …)`): the planner sees real values, and
    no statement carries hundreds of parameters for psycopg to re-parse with a regular
    expression on every call (a page of an export names 2,000 ids)."""
    return bindparam(None, sorted(int(i) for i in ids), expanding=True, literal_execute=True)
