"""Schemas of a test's own on the suite's PostgreSQL server, for tests that build a second app."""

import uuid
from contextlib import contextmanager

import psycopg
from sqlalchemy import make_url


def _admin(app, sql: str) -> None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql)


def database_config(app, schema: str | None = None) -> dict:
    """The config keys that put another app on the suite's database: in `schema` when given,
    otherwise where the suite's own app works."""
    if schema is None:
        return {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS")
                if key in app.config}
    return {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}


@contextmanager
def fresh_schema(app, prefix: str = "carerounds_fresh"):
    """An empty schema on the suite's server, dropped (with everything in it) on the way out;
    yields the config keys of an app that works in it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _admin(app, f'CREATE SCHEMA "{schema}"')
    try:
        yield database_config(app, schema)
    finally:
        _admin(app, f'DROP SCHEMA "{schema}" CASCADE')
