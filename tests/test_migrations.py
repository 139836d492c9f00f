"""Migrations from empty to head build exactly the models, and downgrade back to empty."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from backend import create_app
from backend.extensions import db
from tests.pg import fresh_schema


@pytest.fixture
def fresh_app(app, tmp_path):
    config = {key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET")}
    config["INSTANCE_PATH"] = str(tmp_path)
    with fresh_schema(app, "carerounds_mig") as database:
        fresh = create_app(config | database)
        with fresh.app_context():
            yield fresh
            db.engine.dispose()


def test_migrations_to_head_match_the_models(fresh_app):
    upgrade()
    with db.engine.connect() as connection:
        # Monthly partitions are made by backend/partitions.py, not declared in the models.
        partitions = set(connection.exec_driver_sql("SELECT relname FROM pg_class WHERE relispartition").scalars())
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "include_name": lambda name, type_, parents: not (type_ == "table" and name in partitions)})
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


def test_the_city_level_migration_keeps_a_district_without_a_city_valid(fresh_app):
    from sqlalchemy.exc import IntegrityError

    from backend.regions import services
    from backend.regions.models import Region

    upgrade(revision="0008")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO regions (id, name, level, code, parent_id, path, created_at, updated_at) VALUES "
            "(1, '清河区', 'district', '210105000000', NULL, '/1/', now(), now()),"
            "(2, '长青街道', 'street', '210105001000', 1, '/1/2/', now(), now()),"
            "(3, '长青社区', 'community', '210105001001', 2, '/1/2/3/', now(), now())")
        connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('regions', 'id'), 3)")
    upgrade()
    district = db.session.get(Region, 1)
    assert (district.level, district.parent_id, district.path) == ("district", None, "/1/")
    street = services.create_region(name="东湖街道", level="street", parent_id=1, code="210105002000", by=None)
    assert street.path == f"/1/{street.id}/"
    db.session.commit()
    with pytest.raises(IntegrityError):  # the database now holds streets to a parent
        with db.engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO regions (name, level, path, created_at, updated_at) "
                                       "VALUES ('无主街道', 'street', '', now(), now())")
    # A city, and the district under it, go back to the old tree as a root district on downgrade.
    city = services.create_region(name="沈阳市", level="city", parent_id=None, code="210100000000", by=None)
    services.update_region(db.session.get(Region, 1), {"parent_id": city.id}, by=None)
    db.session.commit()
    assert db.session.get(Region, 3).path == f"/{city.id}/1/2/3/"
    db.session.remove()
    downgrade(revision="0008")
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, level, parent_id, path FROM regions ORDER BY id").all()
    assert [tuple(row) for row in rows][:3] == [(1, "district", None, "/1/"), (2, "street", 1, "/1/2/"),
                                                (3, "community", 2, "/1/2/3/")]
    assert all(row[1] != "city" for row in rows)
