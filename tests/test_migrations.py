"""Migrations from empty to head build exactly the models, and downgrade back to empty."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from backend import create_app
from backend.extensions import db
from tests.conftest import PG_URL, _pg_admin


@pytest.fixture
def fresh_app(app, tmp_path):
    config = {key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET")}
    config["INSTANCE_PATH"] = str(tmp_path)
    schema = None
    if PG_URL:
        schema = f"carerounds_mig_{uuid.uuid4().hex[:10]}"
        _pg_admin(PG_URL, f'CREATE SCHEMA "{schema}"')
        config["SQLALCHEMY_DATABASE_URI"] = PG_URL
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(tmp_path / "migrations.sqlite3")
    fresh = create_app(config)
    try:
        with fresh.app_context():
            yield fresh
            db.engine.dispose()
    finally:
        if schema:
            _pg_admin(PG_URL, f'DROP SCHEMA "{schema}" CASCADE')


def test_migrations_to_head_match_the_models(fresh_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_downgrade_back_to_empty(fresh_app):
    upgrade()
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()


def test_the_first_migration_installs_the_ten_built_in_service_types(fresh_app):
    upgrade()
    with db.engine.connect() as connection:
        codes = {row[0] for row in connection.exec_driver_sql("SELECT code FROM service_types")}
    assert {"meal", "bathing", "cleaning", "medical", "emergency", "mobility", "shopping",
            "companionship", "recreation", "learning"} == codes
