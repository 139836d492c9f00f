"""Migrations from empty to head build exactly the models, and downgrade back to empty."""

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from backend import create_app
from backend.extensions import db
from backend.partitions import include_object
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
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                              "include_object": include_object})
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


def _chain(entries):
    """Audit entries (seq, at, changes) linked as the app links them."""
    from backend.audit.trail import GENESIS, entry_hash

    prev, rows = GENESIS, []
    for seq, at, changes in entries:
        entry = {"seq": seq, "at": at, "actor": "cli:test", "user_id": None, "device_id": None, "source": None,
                 "changes": changes}
        digest = entry_hash(prev, entry)
        rows.append({**entry, "changes": json.dumps(changes), "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


def test_the_log_tables_are_partitioned_by_month_with_their_rows(fresh_app, now):
    from backend.audit.trail import verify_chain
    from backend.followups.models import FollowupEvent, Notification
    from backend.followups.services import notify
    from backend.partitions import partitions_of

    fresh_app.config["CLOCK"] = lambda: now
    upgrade(revision="0015_settlement")
    months_ago = [now - timedelta(days=days) for days in (400, 40, 0)]
    with db.engine.begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO users (id, username, password_hash, role, display_name, is_active, version, created_at, "
            "updated_at) VALUES (1, 'sup', '-', 'supervisor', '', true, 1, now(), now())")
        run("INSERT INTO followups (id, kind, priority, status, dedupe_key, opened_at, due_at, escalation_level, "
            "summary, details, version, change_seq, created_at, updated_at) VALUES (1, 'missed_visit', 'normal', "
            "'open', 'missed_visit:task:1', now(), now(), 0, '', '{}', 1, 1, now(), now())")
        for n, at in enumerate(months_ago, start=1):
            run("INSERT INTO followup_events (followup_id, at, action, data) VALUES (1, %s, 'opened', '{}')", (at,))
            run("INSERT INTO notifications (user_id, event, followup_id, dedupe_key, title, body, created_at, "
                "change_seq) VALUES (1, 'assigned', 1, %s, 't', '', %s, 1)", (f"assigned:f1:1:{n}", at))
        for row in _chain([(n, at, [{"table": "t", "action": "insert"}]) for n, at in enumerate(months_ago, 1)]):
            run("INSERT INTO audit_trail (seq, at, actor, user_id, device_id, source, changes, prev_hash, hash) "
                "VALUES (%(seq)s, %(at)s, %(actor)s, %(user_id)s, %(device_id)s, %(source)s, %(changes)s, "
                "%(prev_hash)s, %(hash)s)", row)
        run("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, %s)", (row["hash"],))
    upgrade()

    with db.engine.connect() as connection:
        for table, column in (("followup_events", "at"), ("notifications", "created_at"), ("audit_trail", "at")):
            placed = connection.exec_driver_sql(f"SELECT tableoid::regclass::text FROM {table} ORDER BY {column}")
            local = [at.astimezone(ZoneInfo("Asia/Shanghai")) for at in months_ago]
            assert placed.scalars().all() == [f"{table}_p{at:%Y%m}" for at in local]
            names = [name for name, *_ in partitions_of(connection, table)]
            # From the oldest row's month to three months ahead, every month, and the default.
            assert len(names) == 14 + 3 + 1 and names[-1] == f"{table}_default"
        keys = connection.exec_driver_sql("SELECT count(*) FROM notification_keys").scalar()
    assert keys == 3
    assert verify_chain(db.session).ok
    # The ids go on from the copied rows' sequence; a used dedupe key is still used.
    with fresh_app.test_request_context():
        notify(1, "assigned", at=now, title="t", followup=db.session.get(FollowupEvent, 1).followup, step="1")
        notify(1, "assigned", at=now, title="t", followup=db.session.get(FollowupEvent, 1).followup, step="9")
        db.session.commit()
    assert [n.dedupe_key for n in db.session.query(Notification).order_by(Notification.id)] == [
        "assigned:f1:1:1", "assigned:f1:1:2", "assigned:f1:1:3", "assigned:f1:1:9"]
    assert db.session.get(Notification, 4).created_at == now
    db.session.remove()

    downgrade(revision="0015_settlement")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM notifications").scalar() == 4
        assert connection.exec_driver_sql("SELECT count(*) FROM audit_trail").scalar() >= 3
        assert connection.exec_driver_sql("SELECT relkind FROM pg_class WHERE oid = 'audit_trail'::regclass"
                                          ).scalar() == "r"
def test_the_document_number_becomes_unique_within_its_kind_on_an_existing_register(fresh_app):
    from sqlalchemy.exc import IntegrityError

    upgrade(revision="0015_settlement")
    elder = ("INSERT INTO elders (name, gender, birth_on, address, community_id, risk_tier, care_notes, "
             "emergency_contacts, is_active, version, change_seq, created_at, updated_at, status, id_document_type, "
             "id_card_no) VALUES ('{name}', 'female', '1949-12-31', '', 3, 'general', '', '[]', true, 1, 1, now(), "
             "now(), 'active', '{kind}', '210105194912310026')")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO regions (id, name, level, code, parent_id, path, created_at, updated_at) VALUES "
            "(1, '清河区', 'district', '210105000000', NULL, '/1/', now(), now()),"
            "(2, '长青街道', 'street', '210105001000', 1, '/1/2/', now(), now()),"
            "(3, '长青社区', 'community', '210105001001', 2, '/1/2/3/', now(), now())")
        connection.exec_driver_sql(elder.format(name="刘淑珍", kind="resident_id"))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:  # before: one number, whatever its kind
        connection.exec_driver_sql(elder.format(name="刘淑贞", kind="passport"))
    upgrade()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(elder.format(name="刘淑贞", kind="passport"))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.exec_driver_sql(elder.format(name="刘树珍", kind="passport"))
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM elders").scalar_one() == 2
