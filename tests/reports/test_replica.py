"""Heavy reads on a real streaming replica: the report and the visit log read it and say as of
when; beyond CARE_REPLICA_MAX_LAG, or unreachable, they read the primary; a phone reads the primary.

The module's app runs on a primary and a hot standby of its own (tests/replication.py:
initdb, pg_basebackup -R, two ports), so every fixture of the suite (city, world, client, login)
works on it. Replay is paused on the standby to make it lag on purpose.
"""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from backend import create_app
from backend.extensions import db
from backend.replica import heavy_read_source
from tests.replication import Cluster

# A phone with today's tasks and a door plate (tests/visits' `field`), here on this module's app.
from tests.visits.conftest import field as visits_field  # noqa: F401


@pytest.fixture(scope="module")
def cluster():
    replicated = Cluster()
    try:
        replicated.start_primary().sql("CREATE DATABASE carerounds")
        replicated.add_standby()
        yield replicated
    finally:
        replicated.close()


@pytest.fixture(scope="module")
def app(cluster, tmp_path_factory):
    """The suite's app, on the cluster: the primary for everything, the standby for heavy reads."""
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("replica-instance")),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "TOKEN_SECRET": "test-token-secret-0123456789abcdef0123456789",
        "QR_SECRET": "test-qr-secret-0123456789abcdef0123456789ab",
        "SQLALCHEMY_DATABASE_URI": cluster.primary.url("carerounds"),
        "DATABASE_REPLICA_URL": cluster.standby.url("carerounds"),
    })
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def paused(cluster):
    """Call it to stop the standby replaying the primary's WAL (it still receives it); resumed after."""
    def pause():
        cluster.standby.sql("SELECT pg_wal_replay_pause()")
    yield pause
    cluster.standby.sql("SELECT pg_wal_replay_resume()")


def _report(client, headers, region, ext=""):
    response = client.get(f"/api/v1/reports/monthly{ext}", query_string={"region": region.id, "month": "2026-11"},
                          headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_the_report_reads_the_replica_as_of_its_last_replayed_commit_within_the_allowed_lag(
        world, client, login, cluster, paused, app):
    headers = login(world.admin)
    cluster.wait_for_replay()
    current = _report(client, headers, world.district).get_json()
    assert current["read_from"] == "replica" and current["as_of"] == current["generated_at"]

    paused()
    world.task("late", world.elder_a1, world.caregiver, "2026-11-20 10:00", started="2026-11-20 10:05", minutes=30)
    db.session.commit()
    committed_at = db.session.execute(text("SELECT now()")).scalar_one()
    db.session.commit()
    behind = _report(client, headers, world.district).get_json()
    assert behind["read_from"] == "replica"
    assert behind["total"]["completed"] == current["total"]["completed"]  # the new visit is not there yet
    as_of = _report(client, headers, world.district).get_json()["as_of"]
    assert as_of == behind["as_of"]
    assert datetime.fromisoformat(as_of) < committed_at < datetime.fromisoformat(behind["generated_at"])

    sheet = _report(client, headers, world.district, ".csv").get_data(as_text=True).lstrip("\ufeff")
    shown = {row[0]: row[1] for row in csv.reader(io.StringIO(sheet)) if len(row) >= 2}
    local = datetime.fromisoformat(as_of).astimezone(ZoneInfo("Asia/Shanghai"))
    assert shown["数据截至"] == f"{local:%Y-%m-%d %H:%M:%S}"

    app.config["REPLICA_MAX_LAG"] = timedelta(0)
    try:
        fresh = _report(client, headers, world.district).get_json()
    finally:
        app.config["REPLICA_MAX_LAG"] = timedelta(seconds=60)
    assert fresh["read_from"] == "primary" and fresh["total"]["completed"] == current["total"]["completed"] + 1


def test_the_visit_log_reads_the_replica_while_the_phone_sees_its_own_push_on_the_primary(
        visits_field, city, client, login, cluster, paused):  # noqa: F811 (the fixture imported above)
    f = visits_field
    headers = login(city.admin)
    cluster.wait_for_replay()
    paused()
    f.clock.set(f.start + timedelta(minutes=26))
    pushed = f.phone.push([
        f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
        f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                     services=[{"service_type": "meal", "outcome": "done"}], satisfaction=5)])
    assert [r["status"] for r in pushed.get_json()["results"]] == ["accepted", "accepted"]

    pulled = f.phone.pull().get_json()["tasks"]["upserted"]
    assert {row["id"]: row["status"] for row in pulled}[f.task.id] == "completed"

    def logged():
        response = client.get("/api/v1/audit/visits", headers=headers)
        assert response.status_code == 200, response.get_json()
        return {row["id"]: row["status"] for row in response.get_json()["items"]}[f.task.id]

    assert logged() != "completed"  # the standby has not replayed the push yet
    cluster.standby.sql("SELECT pg_wal_replay_resume()")
    cluster.wait_for_replay()
    assert logged() == "completed"


def test_an_unreachable_replica_leaves_the_heavy_reads_on_the_primary(app, cluster):
    unreachable = create_app({**{key: app.config[key] for key in (
        "TESTING", "INSTANCE_PATH", "SECRET_KEY", "TOKEN_SECRET", "QR_SECRET", "SQLALCHEMY_DATABASE_URI")},
        "DATABASE_REPLICA_URL": "postgresql://postgres@127.0.0.1:1/carerounds"})
    with unreachable.app_context():
        source = heavy_read_source(now=db.session.execute(text("SELECT now()")).scalar_one())
        db.session.remove()
        db.engine.dispose()
        assert source.read_from == "primary" and source.engine is db.engine


def test_a_statement_draft_reads_the_replica(world, city, client, login, cluster, paused):
    from backend.plans.models import CarePlan

    headers = login(city.admin)
    plan = db.session.get(CarePlan, world.tasks["T1"].care_plan_id)
    query = {"provider_id": plan.provider_id, "month": "2026-11"}
    cluster.wait_for_replay()
    before = client.get("/api/v1/statements", query_string=query, headers=headers).get_json()
    assert before["status"] == "draft"

    paused()
    world.task("new", city.elder_a1, city.caregiver, "2026-11-20 10:00", plan=plan, started="2026-11-20 10:05",
               minutes=30, verified=True)
    db.session.commit()
    behind = client.get("/api/v1/statements", query_string=query, headers=headers).get_json()
    assert behind["line_count"] == before["line_count"]  # the standby has not replayed the visit yet

    cluster.standby.sql("SELECT pg_wal_replay_resume()")
    cluster.wait_for_replay()
    caught_up = client.get("/api/v1/statements", query_string=query, headers=headers).get_json()
    assert caught_up["line_count"] == before["line_count"] + 1
