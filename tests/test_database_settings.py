"""DATABASE_REPLICA_URL, CARE_REPLICA_MAX_LAG and CARE_DB_PREPARED, read from the environment."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from backend import create_app
from backend.extensions import db
from backend.replica import heavy_read_source
from tests.pg import database_config


def _app(app, tmp_path):
    return create_app({key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET")}
                      | {"INSTANCE_PATH": str(tmp_path)} | database_config(app))


def test_a_replica_and_unprepared_connections_come_from_the_environment(app, tmp_path, monkeypatch):
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    monkeypatch.setenv("DATABASE_REPLICA_URL", url)
    monkeypatch.setenv("CARE_REPLICA_MAX_LAG", "5")
    monkeypatch.setenv("CARE_DB_PREPARED", "off")
    configured = _app(app, tmp_path)
    assert configured.config["REPLICA_MAX_LAG"] == timedelta(seconds=5)
    with configured.app_context():
        try:
            for engine in (db.engine, db.engines["replica"]):
                with engine.connect() as conn:
                    assert conn.connection.driver_connection.prepare_threshold is None
                    assert conn.execute(text("SELECT 1")).scalar_one() == 1
            # A "replica" that is not in recovery (a promoted one) is current: read, as of now.
            now = db.session.execute(text("SELECT now()")).scalar_one()
            source = heavy_read_source(now=now)
            assert (source.read_from, source.as_of, source.engine) == ("replica", now, db.engines["replica"])
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def test_prepared_statements_stay_on_by_default(app):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold is not None
        assert "replica" not in db.engines


@pytest.mark.parametrize("variable, value", [("CARE_REPLICA_MAX_LAG", "soon"), ("CARE_REPLICA_MAX_LAG", "-1"),
                                             ("CARE_DB_PREPARED", "maybe"),
                                             ("DATABASE_REPLICA_URL", "mysql://db.example/care")])
def test_a_bad_setting_stops_the_app_naming_the_variable(app, tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(RuntimeError, match=variable):
        _app(app, tmp_path)
